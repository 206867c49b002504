"""Process start-up: settings, fail-fast validation of the rules, the phrase library and its precomputed
embedding matrix (no encoder runs here: turns arrive embedded), the ops endpoint (/metrics, /healthz, /readyz)
and the faust worker."""

from __future__ import annotations

import argparse
import logging
import sys

from cxpulse_core.brokerwatch import watch_broker
from cxpulse_core.health import Health
from cxpulse_core.http import serve
from cxpulse_core.logs import configure_logging
from cxpulse_core.settings import KafkaSettings, RuntimeSettings

from .guidance import Guide, PhrasesError, load_library, load_phrase_matrix, matrix_path
from .rules import RulesError, RulesFile
from .settings import RoutingSettings

log = logging.getLogger("cxpulse_routing")


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cxpulse run routing")
    parser.add_argument("--check", action="store_true", help="validate the rules file and phrase library, then exit")
    args = parser.parse_args(argv)
    runtime, settings = RuntimeSettings(), RoutingSettings()
    configure_logging("routing", runtime.log_level)
    try:
        rules = RulesFile(settings.rules_path)
        library = load_library(settings.phrases_path)
        embeddings = settings.phrase_embeddings_path or matrix_path(settings.phrases_path)
        matrix = load_phrase_matrix(embeddings, library[1], settings.phrases_path)
    except (RulesError, PhrasesError) as exc:
        print(f"cxpulse routing: {exc}", file=sys.stderr)
        return 2
    log.info("rules and phrase library are valid", extra={"rules": [r.name for r in rules.rules.rules],
                                                          "phrases": len(library[1]), "encoder": matrix.encoder})
    if args.check:
        return 0
    guide = Guide(*library, matrix, settings.top_k)
    health = Health(runtime.liveness_timeout_s)
    server = serve(health, runtime.http_host, runtime.http_port)
    watch_broker(KafkaSettings(), health, "routing")
    log.info("ops endpoint listening", extra={"port": server.server_port})

    import faust  # late: faust is heavy, and --check must not need it

    from .app import Routing

    routing = Routing(settings, runtime, KafkaSettings(), rules, guide, health)
    worker = faust.Worker(routing.app, loglevel=runtime.log_level, override_logging=False, redirect_stdouts=False,
                          quiet=True)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        return 1 if health.fatal else code
    return 1 if health.fatal else 0
