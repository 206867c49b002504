"""KafkaSettings (the librdkafka-style settings every service shares) -> faust's broker URLs and credentials."""

from __future__ import annotations

import ssl

import faust
from faust.types.auth import CredentialsT

from cxpulse_core.settings import KafkaSettings


def broker_urls(kafka: KafkaSettings) -> list[str]:
    return [f"kafka://{host.strip()}" for host in kafka.bootstrap_servers.split(",") if host.strip()]


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
    context = _ssl_context(kafka) if protocol.endswith("SSL") else None
    if protocol.startswith("SASL"):
        if (kafka.sasl_mechanism or "PLAIN").upper() == "OAUTHBEARER":
            raise ValueError("KAFKA_SASL_MECHANISM=OAUTHBEARER is not supported by the faust services yet")
        return faust.SASLCredentials(
            username=kafka.sasl_username, password=kafka.sasl_password.get_secret_value() if kafka.sasl_password
            else None, mechanism=kafka.sasl_mechanism or "PLAIN", ssl_context=context)
    return faust.SSLCredentials(context)
