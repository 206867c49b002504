import faust
import pytest

from cxpulse_core.faust_broker import broker_urls, credentials
from cxpulse_core.settings import KafkaSettings


def test_broker_urls_from_bootstrap_servers():
    assert broker_urls(KafkaSettings(bootstrap_servers="a:9092, b:9093")) == ["kafka://a:9092", "kafka://b:9093"]


def test_plaintext_needs_no_credentials():
    assert credentials(KafkaSettings(security_protocol="PLAINTEXT")) is None


def test_sasl_settings_pass_through_to_faust():
    found = credentials(KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
                                      sasl_username="cx", sasl_password="s3cret"))
    assert isinstance(found, faust.SASLCredentials)
    assert (found.username, found.password, found.mechanism.value) == ("cx", "s3cret", "SCRAM-SHA-512")


@pytest.mark.parametrize("settings, message", [
    ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "OAUTHBEARER"}, "OAUTHBEARER"),
    ({"security_protocol": "KERBEROS"}, "not supported"),
])
def test_unsupported_settings_fail_clearly(settings, message):
    with pytest.raises(ValueError, match=message):
        credentials(KafkaSettings(**settings))
