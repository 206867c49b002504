"""python -m cxpulse_insights (or: cxpulse run insights)."""

import sys

from cxpulse_core.startup import exit_on_bad_settings

from .app import run


@exit_on_bad_settings("insights")
def main(argv: list[str] | None = None) -> int:
    return run()


if __name__ == "__main__":
    sys.exit(main())
