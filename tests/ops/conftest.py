"""tests/ops: the deployment files (deploy/, k8s/) against the services. Makes the helper module importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
