"""Typed settings from the environment: one frozen object per service, built on these shared pieces."""

from __future__ import annotations

import socket
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """Connection to the Kafka cluster; every security setting passes straight through to librdkafka."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", frozen=True, extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"  # PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
    sasl_mechanism: str | None = None  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password: SecretStr | None = None
    client_id: str = "cxpulse"

    def client_config(self) -> dict[str, Any]:
        """The librdkafka (confluent-kafka) configuration shared by producers, consumers and admin clients."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "client.id": self.client_id,
        }
        optional = {
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.sasl_username,
            "sasl.password": self.sasl_password.get_secret_value() if self.sasl_password else None,
            "ssl.ca.location": self.ssl_ca_location,
            "ssl.certificate.location": self.ssl_certificate_location,
            "ssl.key.location": self.ssl_key_location,
            "ssl.key.password": self.ssl_key_password.get_secret_value() if self.ssl_key_password else None,
        }
        config.update({key: value for key, value in optional.items() if value is not None})
        return config


class SchemaRegistrySettings(BaseSettings):
    """Optional Confluent Schema Registry; without a URL, Avro single-object encoding is used."""

    model_config = SettingsConfigDict(env_prefix="SCHEMA_REGISTRY_", frozen=True, extra="ignore")

    url: str | None = None
    basic_auth_user_info: SecretStr | None = None  # "user:password"

    def client_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"url": self.url}
        if self.basic_auth_user_info:
            config["basic.auth.user.info"] = self.basic_auth_user_info.get_secret_value()
        return config


class RuntimeSettings(BaseSettings):
    """What every service process needs besides its own domain settings."""

    model_config = SettingsConfigDict(env_prefix="CXPULSE_", frozen=True, extra="ignore")

    http_port: int = 8000  # /metrics, /healthz, /readyz; 0 picks a free port
    http_host: str = "0.0.0.0"
    log_level: str = "INFO"
    topic_prefix: str = ""  # prepended to every topic name (tests, shared clusters)
    dlq_max_invalid_ratio: float = Field(0.5, ge=0.0, le=1.0)  # stop loudly above this share of bad input ...
    dlq_min_messages: int = 100  # ... once at least this many messages were seen in the window
    dlq_window: int = 1000
    liveness_timeout_s: float = 60.0  # /healthz fails when the poll loop has not advanced for this long
    # Stable per replica (a StatefulSet pod name): a restarted replica reuses its transactional id, which
    # fences its predecessor and aborts its open transaction at once instead of after a timeout.
    instance_id: str = Field(default_factory=socket.gethostname)

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
