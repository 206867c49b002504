from cxpulse_core.settings import KafkaSettings, RuntimeSettings, SchemaRegistrySettings


def test_security_settings_pass_through(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker-1:9093,broker-2:9093")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "cx")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("KAFKA_SSL_CA_LOCATION", "/etc/ca.pem")
    settings = KafkaSettings()
    config = settings.client_config()
    assert config["bootstrap.servers"] == "broker-1:9093,broker-2:9093"
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert config["sasl.password"] == "s3cret"
    assert config["ssl.ca.location"] == "/etc/ca.pem"
    # The secret never shows in the settings' repr (which is what ends up in logs).
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings)


def test_defaults_are_plaintext_local(monkeypatch):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    config = KafkaSettings().client_config()
    assert config["bootstrap.servers"] == "127.0.0.1:9092"
    assert "sasl.username" not in config


def test_registry_optional(monkeypatch):
    monkeypatch.delenv("SCHEMA_REGISTRY_URL", raising=False)
    assert SchemaRegistrySettings().url is None
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", "http://registry:8081")
    monkeypatch.setenv("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "u:p")
    assert SchemaRegistrySettings().client_config() == {"url": "http://registry:8081", "basic.auth.user.info": "u:p"}


def test_topic_prefix(monkeypatch):
    monkeypatch.setenv("CXPULSE_TOPIC_PREFIX", "staging.")
    assert RuntimeSettings().topic("cx.alerts") == "staging.cx.alerts"
