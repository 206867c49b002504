"""Settings of the sentiment service (environment variables SENTIMENT_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SentimentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SENTIMENT_", frozen=True, extra="ignore")

    group_id: str = "cxpulse-sentiment"
    max_batch: int = Field(64, ge=1)  # utterances scored together; 8-64 is the encoder's sweet spot
    max_wait_ms: int = Field(10, ge=0)  # after the first utterance, wait this long for a fuller batch
    model_dir: str | None = None  # default: the artifacts shipped in the package
    # LRU cache of scores of short frequent turns. Off: measured no gain (short turns are the cheapest to encode
    # and repeats within a batch are encoded once), see MODEL_CARD.md.
    cache_size: int = Field(0, ge=0)
    # A contact that never sends ContactEnded is forgotten this long after its last event, with a tombstone in
    # cx.sentiment.contact-state (so compaction removes it there too).
    contact_ttl_s: float = Field(4 * 3600.0, gt=0)
