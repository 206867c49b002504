"""Make cxpulse_churn and the test helpers importable without pip-installing the package."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for p in (HERE.parent, HERE):  # package root, then churn_helpers.py
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
