"""Make cxpulse_notification and the test data importable without installing the package."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (HERE.parent, HERE):  # package root, then notification_testdata.py
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
