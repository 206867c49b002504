"""The routing service's faust app: its settings, the rules and the phrase library, the topics and tables the agents
(agents.py) read and write, and `main`, which runs the worker.

Everything here is built when the module is first imported, which is at process start (`python -m cxpulse_routing`
or `cxpulse run routing` import it from main, after the environment is set): ROUTING_*, CXPULSE_* and KAFKA_* are
read then. Importing it asks the broker nothing; `main` gives each table its source topic's partition count
before the worker starts. An invalid rules file or phrase library raises on import (RulesError, PhrasesError:
exit 2, see __main__). No encoder runs here: turns arrive embedded, ranked against the precomputed phrase matrix."""

from __future__ import annotations

import argparse
import logging

import faust

from cxpulse_core.brokerwatch import watch_broker
from cxpulse_core.faust_agent import AgentRuntime
from cxpulse_core.faust_codec import AvroCodec
from cxpulse_core.faust_ops import copartition, make_app, run_worker
from cxpulse_core.faust_restore import STORE_URL, preload
from cxpulse_core.http import serve
from cxpulse_core.logs import configure_logging
from cxpulse_core.settings import KafkaSettings, RuntimeSettings

from .expiry import ContactExpiry
from .guidance import Guide
from .metrics import SERVICE
from .rules import RulesFile
from .settings import RoutingSettings

log = logging.getLogger("cxpulse_routing")

settings, kafka, runtime_settings = RoutingSettings(), KafkaSettings(), RuntimeSettings()
rules = RulesFile(settings.rules_path)
guide = Guide.from_file(settings.phrases_path, settings.phrase_embeddings_path, settings.top_k)

app = make_app(
    SERVICE, settings.app_id, kafka, runtime_settings, session_timeout_s=settings.session_timeout_s,
    commit_interval_s=settings.commit_interval_s, store=STORE_URL, datadir=str(settings.data_dir),
    topic_disable_leader=True, topic_replication_factor=settings.changelog_replication_factor)
runtime = AgentRuntime(app, SERVICE, runtime_settings.topic(settings.deadletter_topic), runtime_settings)


def _avro(setting: str) -> faust.TopicT:
    name = runtime_settings.topic(setting)
    return app.topic(name, key_serializer="raw", value_serializer=AvroCodec(name))


contacts_in = _avro(settings.contacts_topic)
utterances_in = _avro(settings.utterances_topic)
churn_in = _avro(settings.churn_topic)
escalations_out = _avro(settings.escalations_topic)
alerts_out = _avro(settings.alerts_topic)
guidance_out = _avro(settings.guidance_topic)

# Internal tables, JSON keys and values; each changelog gets its source topic's partition count at start. No
# value_type: faust restores a typed value with `value_type.from_data`, which a plain dict does not have, so
# recovery from a non-empty changelog failed; untyped JSON comes back as the dict that was written.
contacts = app.Table("contacts", key_type=str)  # per contact: ContactState (engine.py)
churn = app.GlobalTable("churn-risk", key_type=str)  # per account: the latest risk; every worker holds all of it
# The last guided turn per contact, so a replay after a restart does not guide the same turn twice.
guided = app.Table("guided", key_type=str)
expiry = ContactExpiry(contacts, settings.contact_ttl_s)
guided_expiry = ContactExpiry(guided, settings.contact_ttl_s, name="guided")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cxpulse run routing")
    parser.add_argument("--check", action="store_true", help="validate the rules file and phrase library, then exit")
    args = parser.parse_args(argv)
    configure_logging(SERVICE, runtime_settings.log_level)
    log.info("rules and phrase library are valid", extra={"rules": [r.name for r in rules.rules.rules],
                                                          "phrases": len(guide.phrases),
                                                          "encoder": guide.encoder})
    if args.check:
        return 0
    for table, source in ((contacts, contacts_in), (churn, churn_in), (guided, utterances_in)):
        copartition(table, kafka, source.get_topic_name())
    preload(app, kafka)  # the tables read with librdkafka: faust's recovery then reads only what is newer
    server = serve(runtime.health, runtime_settings.http_host, runtime_settings.http_port)
    watch_broker(kafka, runtime.health, SERVICE)
    log.info("ops endpoint listening", extra={"port": server.server_port})
    from . import agents  # noqa: F401 - registers the agents and timers on `app`

    try:
        return run_worker(app, runtime.health, runtime_settings.log_level,
                          runtime_settings.shutdown_timeout_s)
    finally:
        server.shutdown()
