"""Kafka connection for the faust services: broker URLs and TLS/SASL credentials from the same KafkaSettings
(KAFKA_*) the confluent-kafka services use."""

from __future__ import annotations

import ssl

import faust
from faust.types.auth import CredentialsT

from .settings import KafkaSettings


def broker_urls(kafka: KafkaSettings) -> list[str]:
    return [f"kafka://{server.strip()}" for server in kafka.bootstrap_servers.split(",") if server.strip()]


def _ssl_context(kafka: KafkaSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=kafka.ssl_ca_location)
    if kafka.ssl_certificate_location:
        password = kafka.ssl_key_password.get_secret_value() if kafka.ssl_key_password else None
        context.load_cert_chain(kafka.ssl_certificate_location, kafka.ssl_key_location, password)
    return context


def credentials(kafka: KafkaSettings) -> CredentialsT | None:
    protocol = kafka.security_protocol.upper()
    if protocol == "PLAINTEXT":
        return None
    context = _ssl_context(kafka) if protocol in ("SSL", "SASL_SSL") else None
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    if protocol not in ("SASL_PLAINTEXT", "SASL_SSL"):
        raise ValueError(f"KAFKA_SECURITY_PROTOCOL {kafka.security_protocol!r} is not supported")
    if (kafka.sasl_mechanism or "PLAIN").upper() == "OAUTHBEARER":
        raise ValueError("KAFKA_SASL_MECHANISM=OAUTHBEARER is not supported by the faust services")
    password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
    return faust.SASLCredentials(username=kafka.sasl_username, password=password, ssl_context=context,
                                 mechanism=(kafka.sasl_mechanism or "PLAIN").upper())
