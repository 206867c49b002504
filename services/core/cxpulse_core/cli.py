"""`cxpulse`: one command for every service and tool. Subcommands import their module only when used,
so `cxpulse tail` does not load a model."""

from __future__ import annotations

import importlib
import sys

# subcommand -> (module:function taking argv, help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("cxpulse_core.cli:run_service", "run a service: cxpulse run ingest|sentiment|churn|routing|notification"),
    "topics": ("cxpulse_core.tools:topics_main", "create (idempotent) or list the topics of schemas/topics.yaml"),
    "schemas": ("cxpulse_core.schemas_cli:main", "registry deploy step: cxpulse schemas subjects|register|check"),
    "produce": ("cxpulse_core.tools:produce_main", "produce JSON lines from stdin to a topic"),
    "tail": ("cxpulse_core.tools:tail_main", "print a topic's records as JSON lines"),
    "score": ("cxpulse_sentiment.score_cli:main", "score JSON or text lines from stdin with the sentiment model"),
    "embed-phrases": ("cxpulse_lab.sentiment.training.embed_phrases:main",
                      "recompute routing's phrase-embedding matrix with the sentiment encoder (after changing either)"),
    "train": ("cxpulse_core.cli:train", "retrain a model: cxpulse train sentiment | churn [--csv FILE]"),
    "evaluate": ("cxpulse_core.cli:evaluate", "evaluate a model on held-out data: cxpulse evaluate churn"),
    "simulate": ("cxpulse_lab.sim.simulate:main", "produce realistic simulated contact-center traffic"),
    "demo": ("cxpulse_lab.sim.demo:main", "run the whole pipeline on simulated traffic and report"),
    "bench": ("cxpulse_lab.sim.bench:main", "run the benchmarks and write out/bench/results.json"),
    "redrive": ("cxpulse_core.cli:redrive", "send dead letters through a service again: cxpulse redrive notification"),
}

SERVICES = {
    "ingest": "cxpulse_ingest",
    "sentiment": "cxpulse_sentiment",
    "churn": "cxpulse_churn",
    "churn-scoring": "cxpulse_churn",
    "routing": "cxpulse_routing",
    "notification": "cxpulse_notification",
    "insights": "cxpulse_insights",
}
TRAINERS = {"sentiment": "cxpulse_lab.sentiment.train:main", "churn": "cxpulse_lab.churn.train:main"}
REDRIVERS = {"notification": "cxpulse_notification.redrive:main"}
EVALUATORS = {"churn": "cxpulse_lab.churn.evaluate:main", "sentiment": "cxpulse_lab.sentiment.evaluate:main"}


def _call(target: str, argv: list[str]) -> int:
    module, function = target.split(":")
    return int(getattr(importlib.import_module(module), function)(argv) or 0)


def _dispatch(table: dict[str, str], what: str, argv: list[str]) -> int:
    if not argv or argv[0] not in table:
        print(f"usage: cxpulse {what} {{{'|'.join(table)}}} [options]", file=sys.stderr)
        return 2
    return _call(table[argv[0]], argv[1:])


def run_service(argv: list[str]) -> int:
    services = {name: f"{module}.__main__:main" for name, module in SERVICES.items()}
    return _dispatch(services, "run", argv)


def train(argv: list[str]) -> int:
    return _dispatch(TRAINERS, "train", argv)


def evaluate(argv: list[str]) -> int:
    return _dispatch(EVALUATORS, "evaluate", argv)


def redrive(argv: list[str]) -> int:
    return _dispatch(REDRIVERS, "redrive", argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: cxpulse <command> [options]\n\ncommands:")
        for name, (_, help_text) in COMMANDS.items():
            print(f"  {name:<10} {help_text}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return _call(COMMANDS[argv[0]][0], argv[1:])


if __name__ == "__main__":
    sys.exit(main())
