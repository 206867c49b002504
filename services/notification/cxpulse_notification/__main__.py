"""`cxpulse run notification` (or `python -m cxpulse_notification`)."""

import sys

from .app import main

if __name__ == "__main__":
    sys.exit(main())
