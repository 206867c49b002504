"""Typed settings from the environment: one frozen object per service, built on these shared pieces."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

_PROPERTY = re.compile(r"^([^=:\s]+)\s*[=:]\s*(.*)$")  # key=value or key: value, as Java's Properties reads


class KafkaSettings(BaseSettings):
    """Connection to the Kafka cluster. The typed fields cover the common security settings; any other librdkafka
    property passes through, from `KAFKA_CONFIG__<PROPERTY>` (dots written as `_`, any case:
    KAFKA_CONFIG__SASL_OAUTHBEARER_METHOD=oidc is sasl.oauthbearer.method) or a Java-style properties file
    (KAFKA_CONFIG_FILE, exact names); the variables win over the file and both over the typed fields."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", frozen=True, extra="ignore", env_nested_delimiter="__")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"  # PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
    sasl_mechanism: str | None = None  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password: SecretStr | None = None
    client_id: str = "cxpulse"  # services append "-<service>-<instance>" (for_client)
    config: dict[str, SecretStr] = Field(default_factory=dict)  # KAFKA_CONFIG__*: values may be secrets
    config_file: str | None = None

    def for_client(self, service: str, instance: str) -> KafkaSettings:
        """These settings with client.id `<client_id>-<service>-<instance>`: broker logs, quotas and metrics then
        tell the replicas apart."""
        return self.model_copy(update={"client_id": f"{self.client_id}-{service}-{instance}"})

    def passthrough(self) -> dict[str, str]:
        """The librdkafka properties given as such (file, then KAFKA_CONFIG__* variables)."""
        properties: dict[str, str] = {}
        if self.config_file:
            for number, line in enumerate(Path(self.config_file).read_text().splitlines(), 1):
                if not line.strip() or line.lstrip().startswith(("#", "!")):
                    continue
                match = _PROPERTY.match(line.strip())
                if match is None:
                    raise ValueError(f"{self.config_file}:{number}: not `property=value`")
                properties[match.group(1)] = match.group(2)
        properties |= {key.lower().replace("_", "."): value.get_secret_value() for key, value in self.config.items()}
        return properties

    def client_config(self, passthrough: bool = True) -> dict[str, Any]:
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
        return config | self.passthrough() if passthrough else config


class SchemaRegistrySettings(BaseSettings):
    """Optional Schema Registry (Confluent's REST API: Confluent, Apicurio's /apis/ccompat/v7, Karapace...);
    without a URL, Avro single-object encoding is used."""

    model_config = SettingsConfigDict(env_prefix="SCHEMA_REGISTRY_", frozen=True, extra="ignore")

    url: str | None = None
    basic_auth_user_info: SecretStr | None = None  # "user:password"
    # TLS: a private CA, and a client certificate where the registry wants mutual TLS.
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password: SecretStr | None = None
    # OAuth 2 client credentials (e.g. Apicurio behind Keycloak): the client fetches and refreshes the token.
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    oauth_token_url: str | None = None
    oauth_scope: str = ""
    # Off in production: schemas are registered (and checked) by a deploy step, `cxpulse schemas register`, and a
    # producer only looks its schema up; a schema nobody registered then fails loudly instead of slipping in.
    auto_register: bool = True
    compatibility: str = "BACKWARD"  # what `cxpulse schemas register` sets on each subject and `check` expects

    def client_config(self) -> dict[str, Any]:
        """confluent-kafka's SchemaRegistryClient configuration."""
        config: dict[str, Any] = {"url": self.url}
        secret = {"basic.auth.user.info": self.basic_auth_user_info, "ssl.key.password": self.ssl_key_password}
        config |= {key: value.get_secret_value() for key, value in secret.items() if value is not None}
        tls = {"ssl.ca.location": self.ssl_ca_location, "ssl.certificate.location": self.ssl_certificate_location,
               "ssl.key.location": self.ssl_key_location}
        config |= {key: value for key, value in tls.items() if value is not None}
        if self.oauth_client_id:
            config |= {"bearer.auth.credentials.source": "OAUTHBEARER", "bearer.auth.client.id": self.oauth_client_id,
                       "bearer.auth.client.secret": self.oauth_client_secret.get_secret_value()
                       if self.oauth_client_secret else "",
                       "bearer.auth.issuer.endpoint.url": self.oauth_token_url, "bearer.auth.scope": self.oauth_scope,
                       # confluent-kafka wants these two; Confluent Cloud reads them, other registries ignore them
                       "bearer.auth.logical.cluster": "", "bearer.auth.identity.pool.id": ""}
        return config


class RuntimeSettings(BaseSettings):
    """What every service process needs besides its own domain settings."""

    model_config = SettingsConfigDict(env_prefix="CXPULSE_", frozen=True, extra="ignore")

    http_port: int = Field(8000, ge=0, le=65535)  # /metrics, /healthz, /readyz; 0 picks a free port
    http_host: str = "127.0.0.1"  # loopback unless configured; containers set 0.0.0.0 so probes and Prometheus reach it
    log_level: str = "INFO"
    topic_prefix: str = ""  # prepended to every topic name (tests, shared clusters)
    # Above this share of rejected input (once dlq_min_messages of the last dlq_window were seen) the service
    # raises cxpulse_deadletter_flood and keeps going; it stops only with dlq_stop_on_flood (see dlq.py).
    dlq_max_invalid_ratio: float = Field(0.5, ge=0.0, le=1.0)
    dlq_min_messages: int = Field(100, ge=1)
    dlq_window: int = Field(1000, ge=1)
    dlq_stop_on_flood: bool = False
    liveness_timeout_s: float = 60.0  # /healthz fails when the poll loop has not advanced for this long
    # SIGTERM ends the process within this long: past it (a flush or close stuck on a broker that just came back)
    # it exits at once, which loses nothing (a restart resumes from the last commit, as after kill -9). Below
    # Kubernetes' default 30 s grace period (and the manifests' 40-60 s), after which the kubelet kills anyway.
    shutdown_timeout_s: float = Field(25.0, gt=0, le=600)
    # Stable per replica (a StatefulSet pod name): a restarted replica reuses its transactional id, which
    # fences its predecessor and aborts its open transaction at once instead of after a timeout.
    instance_id: str = Field(default_factory=socket.gethostname)

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
