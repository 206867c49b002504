"""`cxpulse`: one command for every service and tool. Core names no service: each installed package registers what
it adds as entry points in its pyproject.toml, so an image has the commands of what it installed, and nothing more.

Entry-point groups:
  cxpulse.commands   NAME -> function(argv) -> exit status; the first line of its docstring is its help.
                     Commands live in small `commands.py` modules that import their implementation only when
                     called, so `cxpulse --help` or `cxpulse tail` does not load a model.
  cxpulse.services   NAME -> the service's main(argv)          `cxpulse run NAME`
  cxpulse.train      NAME -> main(argv)                        `cxpulse train NAME`
  cxpulse.evaluate   NAME -> main(argv)                        `cxpulse evaluate NAME`
  cxpulse.redrive    NAME -> main(argv)                        `cxpulse redrive NAME`
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

Command = Callable[[list[str]], "int | None"]


def registered(group: str) -> dict[str, EntryPoint]:
    """The entry points of `group` by name, sorted (duplicates from an old install: the last one wins)."""
    return {ep.name: ep for ep in sorted(entry_points(group=group), key=lambda ep: ep.name)}


def _status(result: int | None) -> int:
    return int(result or 0)


def dispatch(group: str, verb: str, argv: list[str]) -> int:
    """`cxpulse VERB NAME [options]`: NAME's entry point of `group` runs with the options."""
    table = registered(group)
    if not argv or argv[0] not in table:
        names = "|".join(table) or "(none installed)"
        print(f"usage: cxpulse {verb} {{{names}}} [options]", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return _status(table[argv[0]].load()(argv[1:]))


def _help_line(command: EntryPoint) -> str:
    doc = getattr(command.load(), "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def usage() -> str:
    commands = registered("cxpulse.commands")
    width = max((len(name) for name in commands), default=0) + 2
    lines = ["usage: cxpulse <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}{_help_line(ep)}" for name, ep in commands.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = registered("cxpulse.commands")
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        print(usage())
        if argv and argv[0] not in ("-h", "--help"):
            print(f"\ncxpulse: unknown command {argv[0]!r}", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return _status(commands[argv[0]].load()(argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
