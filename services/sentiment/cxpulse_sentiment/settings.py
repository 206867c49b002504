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
    cache_size: int = Field(4096, ge=0)  # scores of short frequent turns ("okay", "thank you"); 0 turns it off
