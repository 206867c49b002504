"""Make cxpulse_routing and the scripted-conversation helpers importable without installing the package."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for p in (HERE.parent, HERE):  # package root, then conversations.py
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
