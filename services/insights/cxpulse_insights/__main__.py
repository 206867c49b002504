"""python -m cxpulse_insights (or: cxpulse run insights)."""

import sys

from .app import run


def main(argv: list[str] | None = None) -> int:
    return run()


if __name__ == "__main__":
    sys.exit(main())
