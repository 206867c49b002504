"""The one pytest plugin of cxpulse (entry point `cxpulse_kafka`, so every test run has it): a session-scoped real
broker, fresh topics per test, a real Schema Registry, the JVM tools, and the other ends of the notification
channels (a signed-webhook receiver, an SMTP sink). The helpers behind them live beside it: net (free ports,
waiting on conditions and on /readyz), process (services as OS processes), receivers, kafka, services."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ..settings import KafkaSettings, RuntimeSettings
from ..topics import TopicSpec, create_topics, load_topics
from .broker import LocalBroker, test_broker
from .java import JavaTools, build_java_tools
from .kafka import unique_name
from .receivers import MailSink, WebhookReceiver
from .registry import test_registry


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kafka: needs a real Kafka broker (started once per session)")
    config.addinivalue_line("markers", "registry: needs a real Schema Registry (started once per session)")
    config.addinivalue_line("markers", "java: runs the JVM tools of tests/java (Maven, Java 17)")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with test_broker() as servers:
        yield servers


@pytest.fixture(scope="session")
def schema_registry() -> Iterator[str]:
    """URL of a real registry's Confluent-compatible API (Apicurio Registry, in memory, on 127.0.0.1)."""
    with test_registry() as url:
        yield url


@pytest.fixture(scope="session")
def java_tools() -> JavaTools:
    """tests/java built with Maven (resolved from Maven Central the first time): a stock JVM Kafka + Avro reader."""
    return build_java_tools()


@pytest.fixture(scope="session")
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap)


@pytest.fixture
def new_topic(kafka_settings: KafkaSettings, request: pytest.FixtureRequest) -> Callable[..., str]:
    """Creates a topic with a unique name for this test: new_topic("in", partitions=1, compact=False)."""
    base = request.node.name.replace("[", "-").replace("]", "").replace("_", "-")[:40]

    def create(suffix: str = "t", partitions: int = 1, compact: bool = False) -> str:
        name = unique_name(f"{base}-{suffix}")
        spec = TopicSpec(name, "test", (), "", partitions, 1, 3_600_000, "compact" if compact else "delete")
        create_topics(kafka_settings, [spec])
        return name

    return create


@pytest.fixture
def cx_runtime(kafka_settings: KafkaSettings) -> RuntimeSettings:
    """Every topic of schemas/topics.yaml under a fresh prefix: a private cxpulse namespace for one test.
    Services built with this RuntimeSettings read and write only there."""
    prefix = unique_name("t") + "."
    create_topics(kafka_settings, load_topics(), prefix)
    return RuntimeSettings(topic_prefix=prefix, http_port=0)


@pytest.fixture
def private_broker() -> Iterator[LocalBroker]:
    """A broker of this test's own (started here, removed after), for fault tests that stop and restart it:
    broker.stop(), broker.start() keep its port and data. Costs a broker start (~5-20 s)."""
    broker = LocalBroker()
    broker.start()
    try:
        yield broker
    finally:
        broker.remove()


@pytest.fixture
def webhook_receiver() -> Iterator[Callable[..., WebhookReceiver]]:
    """Makes WebhookReceiver(secret, port=0) (started unless start=False, e.g. to bring it up later in an outage
    test); every one made is stopped after the test."""
    made: list[WebhookReceiver] = []

    def make(secret: str, port: int = 0, start: bool = True) -> WebhookReceiver:
        receiver = WebhookReceiver(secret, port)
        made.append(receiver)
        return receiver.start() if start else receiver

    yield make
    for receiver in made:
        receiver.stop()


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    """A started SMTP server on a free loopback port; `.messages` holds what it received."""
    with MailSink() as sink:
        yield sink
