"""Settings of the routing service (environment variables ROUTING_*). Topic names are settings so tests can
point the service at fresh topics; CXPULSE_TOPIC_PREFIX still applies on top of them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxpulse_core import topics

PACKAGE = Path(__file__).resolve().parent


class RoutingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_", frozen=True, extra="ignore")

    app_id: str = "cxpulse-routing"  # faust app id: consumer group and prefix of its changelog topics
    rules_path: Path = PACKAGE / "rules.yaml"
    phrases_path: Path = PACKAGE / "phrases.yaml"
    rules_check_interval_s: float = Field(2.0, gt=0)  # how often the rules file's mtime is checked
    # The library's embeddings, precomputed with the sentiment service's encoder (`cxpulse embed-phrases`);
    # default: next to the library, phrases.yaml -> phrases.embeddings.npz.
    phrase_embeddings_path: Path | None = None
    top_k: int = Field(3, ge=0, le=3)  # suggested phrases per guidance
    changelog_replication_factor: int = Field(1, ge=1)  # of the changelog topics faust creates; raise on a cluster
    # A contact that never sends ContactSummary leaves the contacts table this long after its last update
    # (checked every contact_ttl_check_s), with a tombstone in the table's changelog.
    contact_ttl_s: float = Field(4 * 3600.0, gt=0)
    contact_ttl_check_s: float = Field(30.0, gt=0)
    session_timeout_s: float = Field(10.0, gt=0)  # how long a killed worker holds its partitions before a restart
    commit_interval_s: float = Field(1.0, gt=0)  # consumer offset commits: what a restart may process again
    data_dir: Path = Path("/tmp/cxpulse-routing")  # faust's local data (tables are in memory, rebuilt from changelogs)
    contacts_topic: str = topics.CONTACT_SENTIMENT
    utterances_topic: str = topics.UTTERANCE_SENTIMENT
    churn_topic: str = topics.CHURN_RISK
    escalations_topic: str = topics.ESCALATIONS
    alerts_topic: str = topics.ALERTS
    guidance_topic: str = topics.GUIDANCE
    deadletter_topic: str = topics.deadletter("routing")
