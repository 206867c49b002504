"""`cxpulse run notification` (or `python -m cxpulse_notification`)."""

import sys

from cxpulse_core.startup import exit_on_bad_settings

from .app import main as _main

main = exit_on_bad_settings("notification")(_main)

if __name__ == "__main__":
    sys.exit(main())
