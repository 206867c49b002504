"""python -m cxpulse_ingest (or: cxpulse run ingest)."""

import sys

from .app import run


def main(argv: list[str] | None = None) -> int:
    return run()


if __name__ == "__main__":
    sys.exit(main())
