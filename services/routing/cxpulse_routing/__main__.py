"""`cxpulse run routing` (or `python -m cxpulse_routing`): validate the rules and the phrase library, load the
encoder, then run the faust worker. Exits 2 on an invalid rules file or phrase library, 1 on a fatal error."""

from __future__ import annotations

import sys

from cxpulse_core.startup import exit_on_bad_settings

from .service import run


@exit_on_bad_settings("routing")
def main(argv: list[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
