"""The notification service's settings: one frozen object from the environment (prefix NOTIFICATION_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxpulse_core import topics

EXAMPLE_ROUTES = Path(__file__).with_name("routes.example.yaml")


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", frozen=True, extra="ignore")

    # Topics (CXPULSE_TOPIC_PREFIX is prepended to each).
    alerts_topic: str = topics.ALERTS
    escalations_topic: str = topics.ESCALATIONS
    log_topic: str = topics.NOTIFICATION_LOG
    deadletter_topic: str = topics.deadletter("notification")
    delivered_topic: str = "cx.notification.delivered"  # compacted changelog of final outcomes
    group_id: str = "cxpulse-notification"

    routes_file: Path = EXAMPLE_ROUTES

    # Delivery and retries.
    # A delivery is retried until this long after its first failed attempt (across restarts: the first failure
    # time is in the changelog), then dead-lettered as retries_exhausted (`cxpulse redrive notification`).
    retry_budget_s: float = Field(3600.0, gt=0)
    max_attempts: int = Field(0, ge=0)  # an extra cap on attempts; 0 = none, the time budget alone decides
    backoff_initial_s: float = Field(0.5, gt=0)
    backoff_multiplier: float = Field(2.0, ge=1)
    backoff_max_s: float = Field(60.0, gt=0)
    # Retry bookkeeping in cx.notifications.log: the first failed attempt, then at most one record per delivery
    # per interval (every attempt is still counted in cxpulse_notifications_retried_total).
    retry_log_interval_s: float = Field(300.0, ge=0)
    backoff_jitter: float = Field(0.5, ge=0, le=1)  # share of each delay that is randomised away
    retry_after_max_s: float = Field(300.0, gt=0)  # a receiver's Retry-After is honoured up to this
    http_timeout_s: float = Field(5.0, gt=0)
    workers: int = Field(8, ge=1)  # concurrent delivery attempts
    max_pending: int = Field(10_000, ge=1)  # pause consuming above this many unfinished deliveries

    # Rate limits (token buckets); 0 disables a limit.
    contact_rate_per_min: float = Field(12.0, ge=0)
    contact_burst: int = Field(6, ge=1)
    recipient_rate_per_min: float = Field(120.0, ge=0)
    recipient_burst: int = Field(30, ge=1)

    # SMTP, passed through to smtplib.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_ssl: bool = False  # implicit TLS (port 465)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "cxpulse <alerts@cxpulse.invalid>"
    smtp_timeout_s: float = Field(10.0, gt=0)

    dashboard_url: str = ""  # link in messages: {dashboard_url}/contacts/<contact id>
    dedup_ttl_hours: float = Field(168.0, gt=0)  # remember final outcomes this long (the input retention)
    prune_interval_s: float = Field(60.0, gt=0)  # how often outcomes past that and full rate buckets are dropped
    redrive_group_id: str = "cxpulse-notification-redrive"  # progress of `cxpulse redrive notification`
    session_timeout_ms: int = Field(10_000, ge=6_000)  # how soon a crashed instance's partitions move on
