"""python -m cxpulse_churn (or: cxpulse run churn)."""

import sys

from .app import run


def main(argv: list[str] | None = None) -> int:
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
