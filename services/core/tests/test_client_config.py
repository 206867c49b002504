"""Any librdkafka property passes through (KAFKA_CONFIG__*, KAFKA_CONFIG_FILE), OAUTHBEARER and mutual TLS included,
checked by constructing real librdkafka clients (which validate every property name and value, and load the
certificates), and client.id per service and instance."""

from __future__ import annotations

import subprocess

import pytest
from confluent_kafka import KafkaException, Producer

from cxpulse_core.kafka import make_consumer, make_producer
from cxpulse_core.settings import KafkaSettings, SchemaRegistrySettings

OIDC = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "OAUTHBEARER",
    "KAFKA_CONFIG__SASL_OAUTHBEARER_METHOD": "oidc",
    "KAFKA_CONFIG__SASL_OAUTHBEARER_CLIENT_ID": "cxpulse",
    "KAFKA_CONFIG__SASL_OAUTHBEARER_CLIENT_SECRET": "oidc-s3cret",
    "KAFKA_CONFIG__SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL": "https://idp.example.invalid/oauth2/token",
    "KAFKA_CONFIG__SASL_OAUTHBEARER_SCOPE": "kafka",
}


@pytest.fixture
def clean_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(("KAFKA_", "SCHEMA_REGISTRY_")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_kafka_config_variables_become_librdkafka_properties(clean_env):
    for name, value in OIDC.items():
        clean_env.setenv(name, value)
    settings = KafkaSettings()
    config = settings.client_config()
    assert config["sasl.oauthbearer.method"] == "oidc"
    assert config["sasl.oauthbearer.token.endpoint.url"] == "https://idp.example.invalid/oauth2/token"
    assert "oidc-s3cret" not in repr(settings)  # passed-through values may be secrets: never in the repr
    # librdkafka itself accepts it: an OIDC client-credentials producer and consumer are built (no broker needed).
    make_producer(settings).flush(0)
    make_consumer(settings, "g").close()


def test_a_property_librdkafka_does_not_know_is_refused_by_it(clean_env):
    clean_env.setenv("KAFKA_CONFIG__NO_SUCH_PROPERTY", "1")
    with pytest.raises(KafkaException, match="No such configuration property"):
        make_producer(KafkaSettings())


def test_properties_file_and_precedence(clean_env, tmp_path):
    path = tmp_path / "client.properties"
    path.write_text("# as for Java clients\nlinger.ms=50\nmessage.max.bytes : 2000000\nclient.rack=eu-1a\n")
    clean_env.setenv("KAFKA_CONFIG_FILE", str(path))
    clean_env.setenv("KAFKA_CONFIG__CLIENT_RACK", "eu-1b")
    settings = KafkaSettings()
    assert settings.passthrough() == {"linger.ms": "50", "message.max.bytes": "2000000", "client.rack": "eu-1b"}
    path.write_text("linger.ms\n")
    with pytest.raises(ValueError, match=r"client\.properties:1"):
        KafkaSettings().passthrough()


def test_passthrough_tunes_defaults_but_not_the_delivery_guarantees(clean_env, caplog):
    clean_env.setenv("KAFKA_CONFIG__LINGER_MS", "25")
    clean_env.setenv("KAFKA_CONFIG__ENABLE_IDEMPOTENCE", "false")
    from cxpulse_core import kafka

    config = kafka._config(KafkaSettings(), {"linger.ms": 2}, {"enable.idempotence": True})
    assert config["linger.ms"] == "25" and config["enable.idempotence"] is True
    assert any(getattr(r, "property", None) == "enable.idempotence" for r in caplog.records)


def test_mutual_tls_is_expressible(clean_env, tmp_path):
    """A client certificate and key (mTLS) and a private CA: librdkafka loads them when the client is built."""
    run = lambda *args: subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
        "-subj", "/CN=test-ca")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=cxpulse")
    run("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
        "client.pem", "-days", "1")
    clean_env.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    clean_env.setenv("KAFKA_SSL_CA_LOCATION", str(tmp_path / "ca.pem"))
    clean_env.setenv("KAFKA_SSL_CERTIFICATE_LOCATION", str(tmp_path / "client.pem"))
    clean_env.setenv("KAFKA_SSL_KEY_LOCATION", str(tmp_path / "client.key"))
    clean_env.setenv("KAFKA_CONFIG__SSL_ENDPOINT_IDENTIFICATION_ALGORITHM", "https")
    make_producer(KafkaSettings()).flush(0)
    # ... and a key that does not belong to the certificate is refused at once, so the check above is real.
    clean_env.setenv("KAFKA_SSL_KEY_LOCATION", str(tmp_path / "ca.key"))
    with pytest.raises(KafkaException, match=r"(?i)key|certificate"):
        Producer(KafkaSettings().client_config())


def test_client_id_per_service_and_instance(clean_env):
    assert KafkaSettings().for_client("sentiment", "sentiment-0").client_config()["client.id"] == \
        "cxpulse-sentiment-sentiment-0"
    clean_env.setenv("KAFKA_CLIENT_ID", "acme-cx")
    assert KafkaSettings().for_client("routing", "pod-7").client_id == "acme-cx-routing-pod-7"


def test_registry_tls_and_oauth_settings(clean_env):
    clean_env.setenv("SCHEMA_REGISTRY_URL", "https://registry.example.invalid/apis/ccompat/v7")
    clean_env.setenv("SCHEMA_REGISTRY_SSL_CA_LOCATION", "/etc/ca.pem")
    clean_env.setenv("SCHEMA_REGISTRY_OAUTH_CLIENT_ID", "cxpulse")
    clean_env.setenv("SCHEMA_REGISTRY_OAUTH_CLIENT_SECRET", "reg-s3cret")
    clean_env.setenv("SCHEMA_REGISTRY_OAUTH_TOKEN_URL", "https://idp.example.invalid/token")
    settings = SchemaRegistrySettings()
    config = settings.client_config()
    assert config["ssl.ca.location"] == "/etc/ca.pem"
    assert config["bearer.auth.credentials.source"] == "OAUTHBEARER"
    assert config["bearer.auth.client.secret"] == "reg-s3cret" and "reg-s3cret" not in repr(settings)
