"""python -m cxpulse_sentiment (or: cxpulse run sentiment)."""

import sys

from cxpulse_core.startup import exit_on_bad_settings

from .app import main as _main

main = exit_on_bad_settings("sentiment")(_main)

if __name__ == "__main__":
    sys.exit(main())
