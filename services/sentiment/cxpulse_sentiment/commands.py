"""Sentiment's `cxpulse` subcommands (entry points, services/sentiment/pyproject.toml); the model loads only when
one runs."""

from __future__ import annotations


def score(argv: list[str]) -> int:
    """score JSON or text lines from stdin with the sentiment model"""
    from .score_cli import main
    return main(argv)
