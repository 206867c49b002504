"""`cxpulse run routing` (or `python -m cxpulse_routing`): read the settings, the rules and the phrase library
(importing app.py), then run the faust worker. Exits 2 on an invalid setting, rules file or phrase library, 1 on a
fatal error.

options:
  --check         validate the rules file and the phrase library, then exit"""

from __future__ import annotations

import sys

from cxpulse_core.startup import exit_on_bad_settings

from .guidance import PhrasesError
from .rules import RulesError


@exit_on_bad_settings("routing")
def main(argv: list[str] | None = None) -> int:
    try:
        from . import app
    except (RulesError, PhrasesError) as exc:
        print(f"cxpulse routing: {exc}", file=sys.stderr)
        return 2
    return app.main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
