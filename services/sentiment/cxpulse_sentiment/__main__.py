"""python -m cxpulse_sentiment (or: cxpulse run sentiment)."""

import sys

from .app import run


def main(argv: list[str] | None = None) -> int:
    return run()


if __name__ == "__main__":
    sys.exit(main())
