"""The churn-scoring service's faust app: its settings, the model, the topics and the per-account table the agents
(agents.py) read and write, and `main`, which runs the worker.

Everything here is built when the module is first imported, which is at process start (`python -m cxpulse_churn`
or `cxpulse run churn` import it from main, after the environment is set): CHURN_*, CXPULSE_* and KAFKA_* are read
then. Importing it asks the broker nothing.

Flow (see README.md):
  cx.sentiment.contacts (key: contact)  -> route_contacts    \\  re-keyed by account id
  cx.routing.escalations (key: contact) -> route_escalations  >  <app_id>-accounts-repartition (JSON)
  <app_id>-accounts-repartition         -> score_accounts (history table, one score per event) -> cx.churn.risk
  timer every decay_interval_s          -> decay sweep over the worker's active partitions  -> cx.churn.risk
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from cxpulse_core.brokerwatch import watch_broker
from cxpulse_core.faust_agent import AgentRuntime
from cxpulse_core.faust_codec import AvroCodec
from cxpulse_core.faust_ops import make_app, run_worker
from cxpulse_core.faust_restore import preload
from cxpulse_core.http import serve
from cxpulse_core.logs import configure_logging
from cxpulse_core.settings import KafkaSettings, RuntimeSettings

from . import metrics as m
from .model import ChurnModel
from .settings import ChurnSettings

log = logging.getLogger(__name__)
SERVICE = m.SERVICE

settings, kafka, runtime_settings = ChurnSettings(), KafkaSettings(), RuntimeSettings()
model = ChurnModel.load(settings.model_dir)

app = make_app(
    SERVICE, settings.app_id, kafka, runtime_settings, session_timeout_s=settings.session_timeout_s,
    commit_interval_s=settings.commit_interval_s, store=settings.store,
    datadir=str(Path(settings.data_dir) / settings.app_id), topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication_factor, key_serializer="raw")
runtime = AgentRuntime(app, SERVICE, runtime_settings.topic(settings.deadletter_topic), runtime_settings)

_names = {k: runtime_settings.topic(getattr(settings, f"{k}_topic")) for k in ("contacts", "escalations", "risk")}
contacts_in = app.topic(_names["contacts"], value_serializer=AvroCodec(_names["contacts"]))
escalations_in = app.topic(_names["escalations"], value_serializer=AvroCodec(_names["escalations"]))
risk_out = app.topic(_names["risk"], key_type=str, value_serializer=AvroCodec(_names["risk"]))
# Internal (created by faust): the account-keyed stream the table is co-partitioned with.
accounts_topic = app.topic(f"{settings.app_id}-accounts-repartition", internal=True, partitions=settings.partitions,
                           replicas=settings.replication_factor, key_type=str, value_serializer="json")
# Per account: AccountState (scoring.py). Keys and values are JSON in the changelog (faust derives the
# serializers from the types).
accounts = app.Table("accounts", default=None, partitions=settings.partitions, key_type=str)
runtime.on_beat.append(lambda: m.ACCOUNTS.labels(SERVICE).set(len(accounts.data)))


def main(argv: list[str] | None = None) -> int:
    """Runs the worker until SIGTERM/SIGINT (exit 0) or a fatal error (exit 1)."""
    argparse.ArgumentParser(prog="cxpulse run churn", description="the churn-scoring worker").parse_args(argv)
    configure_logging(SERVICE, runtime_settings.log_level)
    Path(settings.data_dir, settings.app_id).mkdir(parents=True, exist_ok=True)  # faust creates only the last level
    server = serve(runtime.health, runtime_settings.http_host, runtime_settings.http_port)
    watch_broker(kafka, runtime.health, SERVICE)
    log.info("started", extra={"app_id": settings.app_id, "model_version": model.version,
                               "bootstrap": kafka.bootstrap_servers, "http_port": server.server_port})
    from . import agents  # noqa: F401 - registers the agents and the decay timer on `app`

    preload(app, kafka)  # a preloaded:// table (the default) read with librdkafka: faust's recovery reads what is newer

    try:
        code = run_worker(app, runtime.health, runtime_settings.log_level,
                          runtime_settings.shutdown_timeout_s)
    finally:
        server.shutdown()
    log.info("stopped", extra={"exit_code": code})
    return code
