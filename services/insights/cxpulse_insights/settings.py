"""Settings of the insights service (environment variables INSIGHTS_*). Topic names are settings so a
deployment can rename them; CXPULSE_TOPIC_PREFIX (RuntimeSettings.topic) still applies on top of them."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxpulse_core import topics

QUALITY_TOPIC = "cx.insights.quality"
AGENTS_TOPIC = "cx.insights.agents"
PROGRESS_TOPIC = "cx.insights.progress"


class InsightsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INSIGHTS_", frozen=True, extra="ignore")

    # Every start uses a fresh consumer group "<group_id>-<instance>-<start ms>" that reads from the earliest
    # retained record: the views are in memory, so a restart rebuilds them by replaying the inputs.
    group_id: str = "cxpulse-insights"
    replay_on_start: bool = True  # False: one stable group "<group_id>" that resumes (views start empty)
    produce_outputs: bool = True  # False on extra dashboard replicas, so only one writes the output topics

    contacts_topic: str = topics.CONTACT_SENTIMENT
    utterances_topic: str = topics.UTTERANCE_SENTIMENT
    escalations_topic: str = topics.ESCALATIONS
    alerts_topic: str = topics.ALERTS
    churn_topic: str = topics.CHURN_RISK
    guidance_topic: str = topics.GUIDANCE
    feedback_topic: str = topics.FEEDBACK_LABELS  # supervisors' label corrections (written by the dashboard)
    quality_topic: str = QUALITY_TOPIC
    agents_topic: str = AGENTS_TOPIC
    progress_topic: str = PROGRESS_TOPIC  # input offsets whose outputs are written (restart without duplicates)
    deadletter_topic: str = topics.deadletter("insights")

    # Insights is off the alert path: after a batch's first record it waits this long for more, and its fetches
    # wait as long, so that one transaction and one fetch carry a quarter second of records instead of a few
    # (the broker's CPU follows records and transactions). 0: a batch as soon as records arrive.
    batch_wait_ms: int = Field(250, ge=0, le=5000)

    web_host: str = "127.0.0.1"  # loopback unless configured (a container sets 0.0.0.0)
    web_port: int = Field(8080, ge=0, le=65535)  # dashboard and API; 0 picks a free port (tests)
    sse_coalesce_s: float = Field(0.2, ge=0)  # changes within this window go out as one SSE update

    review_score: float = Field(50.0, ge=0, le=100)  # contacts scoring below this are flagged for review
    outlier_z: float = Field(3.5, gt=0)  # |robust z| above this is an outlier within the queue
    outlier_window: int = Field(500, ge=5)  # recent scores per queue the median/MAD are taken over
    outlier_min_sample: int = Field(5, ge=3)  # fewer scores in a queue: no z-score yet
    at_risk_probability: float = Field(0.5, ge=0, le=1)  # accounts at or above this churn risk are listed
    max_open_contacts: int = Field(50_000, ge=1)  # contacts whose turns are buffered until their summary
    max_turns_per_contact: int = Field(1_000, ge=1)
    max_recent: int = Field(200, ge=1)  # escalations, alerts and quality scores kept for the feeds
    max_contacts_remembered: int = Field(200_000, ge=1)  # ended contacts kept for coaching and journey
    # An ended contact's summary and turns are kept this long, so that a turn or escalation read after the summary
    # still rescores it; then only its outcome stays (a few hundred bytes instead of ~5 KB for 10 turns).
    ended_grace_s: float = Field(600.0, gt=0)
    # A contact in progress without any record for this long (it never ended) leaves the live views.
    contact_ttl_s: float = Field(4 * 3600.0, gt=0)
    max_accounts: int = Field(500_000, ge=1)  # churn risks kept for the at-risk list (least recently updated go)
    # Drill-down memory: worst case max_detail_contacts x detail_max_turns turns (~0.4 KB each): 2,000 x 300 ~ 240 MB;
    # typical contacts have 20-60 turns (~25 MB).
    max_detail_contacts: int = Field(2_000, ge=1)  # contacts (live or ended) whose transcript the drill-down shows
    detail_max_turns: int = Field(300, ge=1)  # turns per contact the drill-down keeps (the first ones)
    timeline_points: int = Field(40, ge=2)  # turns per live timeline sent to the dashboard
    live_rows: int = Field(300, ge=1)  # most recently active contacts in the live view (API and dashboard)
    trends_max_keys: int = Field(2_000, ge=1)  # (queue, channel, agent) keys per trend bucket; the rest is "other"
