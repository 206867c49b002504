"""`cxpulse run churn` (or `python -m cxpulse_churn`): read the settings and the model (importing app.py), then
run the faust worker. Exits 2 on an invalid setting, 1 on a fatal error."""

from __future__ import annotations

import sys

from cxpulse_core.startup import exit_on_bad_settings


@exit_on_bad_settings("churn")
def main(argv: list[str] | None = None) -> int:
    from . import app

    return app.main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
