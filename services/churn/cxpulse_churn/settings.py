"""Settings of the churn-scoring service (environment variables CHURN_*)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxpulse_core import topics


class ChurnSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHURN_", frozen=True, extra="ignore")

    # faust app id: the consumer group and the prefix of the internal topics (repartition, changelog).
    app_id: str = "cxpulse-churn-scoring"
    # Topic names; CXPULSE_TOPIC_PREFIX is prepended to each. Tests point them at fresh topics.
    contacts_topic: str = topics.CONTACT_SENTIMENT
    escalations_topic: str = topics.ESCALATIONS
    risk_topic: str = topics.CHURN_RISK
    deadletter_topic: str = topics.deadletter("churn-scoring")
    # Partitions of the internal account topic and of the table changelog (they must match; fixed once created).
    partitions: int = Field(3, ge=1)
    replication_factor: int = Field(1, ge=1)  # of the internal topics
    max_entries: int = Field(50, ge=1)  # contacts kept per account (most recent)
    n_reasons: int = Field(3, ge=0)
    # Decay: every decay_interval_s, rescore the accounts whose last score is older than decay_after_s.
    decay_interval_s: float = Field(3600.0, gt=0)
    decay_after_s: float = Field(86400.0, ge=0)
    decay_horizon_days: float = Field(366.0, gt=0)  # after this long without contact the features stop moving
    decay_batch: int = Field(500, ge=1)  # accounts per score_many call
    # An escalation of a contact whose summary never came (it never ended) is kept, as a pending stub in the
    # account's history, this long after it fired (expiry.py), checked every contact_ttl_check_s.
    contact_ttl_s: float = Field(4 * 3600.0, gt=0)
    contact_ttl_check_s: float = Field(30.0, gt=0)
    model_dir: str | None = None  # default: the artifact shipped in the package
    # faust table store: preloaded:// is memory://, filled from the changelog with librdkafka before the worker
    # starts (cxpulse_core.faust_restore), so faust's recovery reads only what is newer
    store: str = "preloaded://"
    data_dir: str = str(Path(tempfile.gettempdir()) / "cxpulse-churn")  # faust's working files (<data_dir>/<app_id>)
    session_timeout_s: float = Field(30.0, gt=0)  # how long a dead worker holds its partitions
    commit_interval_s: float = Field(2.8, gt=0)  # consumer offset commits (at-least-once)
