"""The one pure entry point the Kafka loop calls: raw record in, normalized outputs (or a verdict) out.

process() returns a list of typed interaction records (cxpulse_core.records: ContactStarted, Utterance,
ContactEnded; possibly none: e.g. a Contact Lens SEGMENTS event holding only Utterance partials or Categories), a
Rejection (goes to the dead-letter topic), or None for a duplicate dropped on purpose. Counters (self.counters) are
plain numbers for the caller to export as metrics."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

from cxpulse_core.records import Utterance

from .contactlens import adapt
from .contract import DEFAULT_MAX_BYTES, decode_json_object, parse_raw_event
from .normalize import Interaction, contact_context, normalize
from .raw_event import RawEvent, Rejected
from .redact import ALL_TYPES, Redactor
from .state import ContactOrder, ContactState, DedupWindow

SOURCES = ("cxpulse", "contact-lens")
_ID_FIELDS = ("event_id", "contact_id", "account_id", "customer_id", "agent_id")
_ID_PII_TYPES = {"CARD", "SSN", "EMAIL", "PHONE", "IBAN", "NINO"}
_SSN_SHAPED = re.compile(r"[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}")
# UUIDs are machine ids, not personal data: their digit runs must not read as phone or card numbers (Contact Lens
# ids are UUIDs). Only the strict 8-4-4-4-12 hex form, so a prefix cannot hide an SSN from the check.
_UUID = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                   r"(?![0-9A-Za-z])")


# Every form above has an '@', a run of >= 9 digits (separators allowed) or the NI-number shape: ids without one
# (almost all) skip the redactor; the rest are remembered, since contact, account and agent ids repeat.
_MAY_HOLD_PII = re.compile(r"@|[0-9](?:[ .\-/_]?[0-9]){8}|[A-Za-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d]")
_VERDICTS_MAX = 100_000


def _may_hold_pii(value: str) -> bool:
    return _MAY_HOLD_PII.search(value) is not None


@dataclass(frozen=True)
class IngestRules:
    max_bytes: int = DEFAULT_MAX_BYTES
    dedup_max_ids: int = 500_000
    dedup_ttl_ms: int = 30 * 60_000  # longer than any plausible producer retry / replay burst
    redaction_types: frozenset[str] = ALL_TYPES
    order_tolerance_ms: int = 5_000  # how far an unsequenced event may lag the newest of its contact
    max_contacts: int = 200_000
    forget_ended_after_ms: int = 10 * 60_000
    contact_ttl_ms: int = 4 * 3_600_000  # a contact that never ends is forgotten this long after its last event
    id_hash_key: bytes | None = None  # ids holding personal data are HMAC-hashed with it; rejected without it


@dataclass(frozen=True)
class Rejection:
    reason: str
    field: str | None
    detail: str


@dataclass
class IngestCounters:
    accepted: int = 0  # output events, not inputs
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # by reason
    redactions: dict[str, int] = field(default_factory=dict)  # placeholders inserted, by type
    contactlens_utterance_partials: int = 0  # dropped in favour of their Transcript
    contactlens_ignored_segments: int = 0
    contactlens_categories: dict[str, int] = field(default_factory=dict)  # matched category name -> count
    out_of_order_segments: int = 0  # dropped from a multi-segment event whose other segments went through
    hashed_ids: int = 0  # ids that looked like personal data, replaced by their HMAC


class Ingestor:
    def __init__(self, settings: IngestRules | None = None) -> None:
        self.settings = settings = settings or IngestRules()
        self.redactor = Redactor(settings.redaction_types)
        self._id_redactor = Redactor(_ID_PII_TYPES)
        self._id_verdicts: dict[str, bool] = {}  # id -> holds PII (bounded; cleared when full)
        self.dedup = DedupWindow(settings.dedup_max_ids, settings.dedup_ttl_ms)
        self.order = ContactOrder(settings.max_contacts, settings.order_tolerance_ms,
                                  settings.forget_ended_after_ms, settings.contact_ttl_ms)
        self.counters = IngestCounters()

    def process(self, raw: bytes | dict[str, Any], source: str, origin_time_ms: int,
                now_ms: int) -> list[Interaction] | Rejection | None:
        try:
            if source == "cxpulse":
                events = [parse_raw_event(raw, self.settings.max_bytes)]
            elif source == "contact-lens":
                events = self._adapt_contact_lens(raw, origin_time_ms)
            else:
                raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
        except Rejected as e:
            return self._reject(e)
        try:
            for event in events:
                self._check_ids(event)
        except Rejected as e:
            return self._reject(e)
        return self._admit_all(events, source, origin_time_ms, now_ms)

    def _check_ids(self, event: RawEvent) -> None:
        """Ids travel everywhere (keys, alerts, webhooks, the dashboard) unredacted, so one that holds personal data
        (a card, SSN, e-mail, phone, IBAN or NI number used as an account id) is hashed with INGEST_ID_HASH_KEY
        (HMAC-SHA256: stable, so joins still work) or, without a key, rejected."""
        for name in _ID_FIELDS:
            value = getattr(event, name)
            if value is None or not _may_hold_pii(value):
                continue
            verdict = self._id_verdicts.get(value)
            if verdict is None:
                checked = _UUID.sub("-", value)
                verdict = _may_hold_pii(checked) and (
                    bool(self._id_redactor.redact(checked)[1].keys() & _ID_PII_TYPES)
                    or _SSN_SHAPED.fullmatch(value) is not None)
                if len(self._id_verdicts) >= _VERDICTS_MAX:
                    self._id_verdicts.clear()
                self._id_verdicts[value] = verdict
            if not verdict:
                continue
            key = self.settings.id_hash_key
            if key is None:
                raise Rejected("pii_in_id", name, "looks like personal data (card, SSN, e-mail, phone, IBAN, NI "
                                                  "number); set INGEST_ID_HASH_KEY to hash such ids instead")
            digest = hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]
            setattr(event, name, f"h-{digest}")
            self.counters.hashed_ids += 1

    def _adapt_contact_lens(self, raw: bytes | dict[str, Any], origin_time_ms: int) -> list[RawEvent]:
        doc = decode_json_object(raw, self.settings.max_bytes) if isinstance(raw, (bytes, bytearray)) else raw
        if type(doc) is not dict:
            raise Rejected("wrong_type", None, "expected object")
        batch = adapt(doc, origin_time_ms)
        counters = self.counters
        counters.contactlens_utterance_partials += batch.utterance_partials
        counters.contactlens_ignored_segments += batch.ignored_segments
        for name in batch.categories:
            counters.contactlens_categories[name] = counters.contactlens_categories.get(name, 0) + 1
        return batch.events

    def _admit_all(self, events: list[RawEvent], source: str, origin_time_ms: int,
                   now_ms: int) -> list[Interaction] | Rejection | None:
        outputs: list[Interaction] = []
        first_rejection: Rejected | None = None
        duplicates = rejected = 0
        for event in events:
            if self.dedup.contains(event.event_id, now_ms):
                duplicates += 1
                continue
            # Contact Lens mixes AWS's clock (chat AbsoluteTime) with ours; order it by the Kafka time only.
            order_time = event.timestamp_ms if source == "cxpulse" else origin_time_ms
            try:
                admitted = self.order.admit(event.contact_id, event.type, event.sequence, order_time, now_ms)
            except Rejected as e:
                first_rejection = first_rejection or e
                rejected += 1
                continue
            state = admitted.state
            if event.type == "contact_started":
                state.context = contact_context(event)
            record = normalize(event, sequence=admitted.sequence, turn=admitted.turn, source=source,
                                       origin_time_ms=origin_time_ms, now_ms=now_ms, redactor=self.redactor,
                                       context=state.context, started_ms=state.started_ms)
            if type(record) is Utterance and record.redactions:
                totals = self.counters.redactions
                for kind, n in record.redactions.items():
                    totals[kind] = totals.get(kind, 0) + n
            self.dedup.add(event.event_id, now_ms)  # only once accepted: a rejected id may be retried
            state.remember(event.event_id)
            outputs.append(record)
        self.counters.duplicates += duplicates
        self.counters.accepted += len(outputs)
        if first_rejection is not None:
            if not outputs:
                return self._reject(first_rejection)
            self.counters.out_of_order_segments += rejected
        if not outputs and duplicates:
            return None
        return outputs

    # -- state kept in a changelog (handler.py) -----------------------------------------------------------------
    def changes(self) -> dict[str, dict[str, Any] | None]:
        """Contacts changed since the last call, as changelog values (None: forgotten, a tombstone)."""
        return {c: None if s is None else s.to_json() for c, s in self.order.changes().items()}

    def load(self, contact_id: str, value: dict[str, Any] | None) -> None:
        """A contact from the changelog; its recent event ids count as seen again (restart dedup)."""
        state = None if value is None else ContactState.from_json(value)
        self.order.load(contact_id, state)
        for event_id in state.recent_ids if state else ():
            self.dedup.add(event_id, state.touched_ms)

    def restored(self) -> None:
        self.order.restored()

    def expire(self, now_ms: int) -> int:
        return self.order.expire(now_ms)

    def compact(self) -> None:
        """After an expiry sweep: re-sized maps (cxpulse_core.memory.MemoryRelease calls it before trimming)."""
        self.order.compact()
        self.dedup.compact()

    def _reject(self, e: Rejected) -> Rejection:
        rejected = self.counters.rejected
        rejected[e.reason] = rejected.get(e.reason, 0) + 1
        return Rejection(e.reason, e.field, e.detail)
