"""The lab's `cxpulse` subcommands (entry points, services/lab/pyproject.toml). Each imports its implementation
only when called; the first docstring line is the help `cxpulse --help` shows."""

from __future__ import annotations


def simulate(argv: list[str]) -> int:
    """produce realistic simulated contact-center traffic"""
    from .sim.simulate import main
    return main(argv)


def demo(argv: list[str]) -> int:
    """run the whole pipeline on simulated traffic and report"""
    from .sim.demo import main
    return main(argv)


def bench(argv: list[str]) -> int:
    """run the benchmarks and write out/bench/results.json"""
    from .sim.bench import main
    return main(argv)


def embed_phrases(argv: list[str]) -> int:
    """recompute routing's phrase-embedding matrix with the sentiment encoder (after changing either)"""
    from .sentiment.training.embed_phrases import main
    return main(argv)
