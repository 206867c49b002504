"""Core's `cxpulse` subcommands (entry points of group `cxpulse.commands` in services/core/pyproject.toml). Each
imports its implementation only when called; the first docstring line is the help `cxpulse --help` shows."""

from __future__ import annotations

from .cli import dispatch


def run(argv: list[str]) -> int:
    """run a service: cxpulse run NAME (the installed services; NAME --help lists its settings)"""
    return dispatch("cxpulse.services", "run", argv)


def topics(argv: list[str]) -> int:
    """create (idempotent) or list the topics of schemas/topics.yaml"""
    from .tools import topics_main
    return topics_main(argv)


def schemas(argv: list[str]) -> int:
    """registry deploy step: cxpulse schemas subjects|register|check"""
    from .schemas_cli import main
    return main(argv)


def produce(argv: list[str]) -> int:
    """produce JSON lines from stdin to a topic"""
    from .tools import produce_main
    return produce_main(argv)


def tail(argv: list[str]) -> int:
    """print a topic's records as JSON lines"""
    from .tools import tail_main
    return tail_main(argv)


def train(argv: list[str]) -> int:
    """retrain a model: cxpulse train NAME [options] (`cxpulse train` lists the installed ones)"""
    return dispatch("cxpulse.train", "train", argv)


def evaluate(argv: list[str]) -> int:
    """evaluate a model on held-out data: cxpulse evaluate NAME [options] (`cxpulse evaluate` lists them)"""
    return dispatch("cxpulse.evaluate", "evaluate", argv)


def redrive(argv: list[str]) -> int:
    """send dead letters through a service again: cxpulse redrive NAME (`cxpulse redrive` lists them)"""
    return dispatch("cxpulse.redrive", "redrive", argv)
