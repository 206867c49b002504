"""Settings of the sentiment service (environment variables SENTIMENT_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SentimentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SENTIMENT_", frozen=True, extra="ignore")

    group_id: str = "cxpulse-sentiment"
    max_batch: int = Field(64, ge=1)  # records per loop batch: one transaction, one predict() call
    max_wait_ms: int = Field(10, ge=0)  # after the first utterance, wait this long for a fuller batch
    model_dir: str | None = None  # default: the artifacts shipped in the package
    # A contact that never sends ContactEnded is forgotten this long after its last event, with a tombstone in
    # cx.sentiment.contact-state (so compaction removes it there too).
    contact_ttl_s: float = Field(4 * 3600.0, gt=0)
