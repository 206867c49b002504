"""python -m cxpulse_churn (or: cxpulse run churn)."""

import sys

from cxpulse_core.startup import exit_on_bad_settings

from .app import run


@exit_on_bad_settings("churn")
def main(argv: list[str] | None = None) -> int:
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
