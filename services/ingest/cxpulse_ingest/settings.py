"""Settings of the ingest service (environment variables INGEST_*)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from .ingestor import IngestRules
from .redact import ALL_TYPES


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", frozen=True, extra="ignore")

    group_id: str = "cxpulse-ingest"
    max_bytes: int = Field(64 * 1024, ge=256)  # larger raw records are rejected as oversized
    dedup_max_ids: int = Field(500_000, ge=1)
    dedup_ttl_ms: int = Field(30 * 60_000, ge=1)
    redact: str = ",".join(sorted(ALL_TYPES))  # comma-separated subset of ALL_TYPES (redact.py); "" turns it off
    # Ids (account_id, agent_id, ...) that look like personal data are HMAC-SHA256-hashed with this key; without
    # it such events are rejected (reason pii_in_id).
    id_hash_key: SecretStr | None = None
    order_tolerance_ms: int = Field(5_000, ge=0)
    max_contacts: int = Field(200_000, ge=1)
    # A contact that never sends contact_ended is forgotten (and tombstoned in cx.ingest.contact-state) this long
    # after its last event; ended contacts go 10 minutes after their end.
    contact_ttl_s: float = Field(4 * 3600.0, gt=0)

    def rules(self) -> IngestRules:
        types = frozenset(t.strip().upper() for t in self.redact.split(",") if t.strip())
        unknown = types - ALL_TYPES
        if unknown:
            raise ValueError(f"INGEST_REDACT: unknown types {sorted(unknown)}; known: {sorted(ALL_TYPES)}")
        return IngestRules(max_bytes=self.max_bytes, dedup_max_ids=self.dedup_max_ids,
                           dedup_ttl_ms=self.dedup_ttl_ms, redaction_types=types,
                           order_tolerance_ms=self.order_tolerance_ms, max_contacts=self.max_contacts,
                           contact_ttl_ms=int(self.contact_ttl_s * 1000),
                           id_hash_key=self.id_hash_key.get_secret_value().encode() if self.id_hash_key else None)
