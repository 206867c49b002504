"""The in-memory views behind the API and the dashboard, fed by typed records (cxpulse_core.records). The stream
thread writes, the web thread reads: every method holds one lock, and views are returned as copies.
Listeners hear which view changed (after the lock is released) and push it to dashboards."""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cxpulse_core.memory import Shared, compacted
from cxpulse_core.records import (
    AgentGuidance,
    ChurnRisk,
    ContactSentimentUpdate,
    ContactSummary,
    Escalation,
    LabelCorrection,
    QualityScore,
    Speaker,
    SupervisorAlert,
    UtteranceSentiment,
)

from . import outputs
from .coaching import AgentFigures, Coaching, ContactOutcome
from .detail import ContactLog
from .journey import Journey, stage_outcomes
from .quality import STRETCH_LIMIT, ContactFacts, Turn, outlier, robust_z, scorecard
from .settings import InsightsSettings
from .trends import WINDOWS, Trends

BANDS = ("low", "medium", "high", "critical")  # churn-scoring's bands, in order
MAX_SHARED_VALUES = 10_000  # distinct bands, reason texts and reason lists kept shared (see on_churn)
Listener = Callable[[str], None]  # called with a view name: contacts, escalations, quality, agents, ...


@dataclass
class Ended:
    """An ended contact, kept so that a turn or an escalation read after its summary can still count. For
    `ended_grace_s` only: then it is settled (see settle()) and what stays of it is its outcome in the coaching and
    journey windows. Kept whole, ended contacts were most of insights' memory: ~5 KB and ~90 allocations for
    a 10-turn contact, up to max_contacts_remembered of them."""

    summary: ContactSummary
    turns: dict[int, Turn]
    escalation: float | None
    at: float = 0.0  # clock when its summary was read


class InsightsState:
    """Every map is bounded: contacts in progress by count (`max_open_contacts`) and by time (`contact_ttl_s`
    after their last record, see expire()), ended contacts by count, their summaries and turns by time
    (`ended_grace_s`, see settle()), churn risks by count (`max_accounts`)."""

    def __init__(self, settings: InsightsSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.s = settings
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # contact in progress -> last record (clock)
        self.expired = 0
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._deferred: set[str] | None = None  # views changed inside batched(), announced at its end
        self._active: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._turns: OrderedDict[str, dict[int, Turn]] = OrderedDict()
        self._escalated: OrderedDict[str, float] = OrderedDict()  # contact -> customer score at escalation
        # The feeds keep each entry as one JSON string (see _packed)
        self._escalations: deque[str] = deque(maxlen=settings.max_recent)
        self._alerts: deque[str] = deque(maxlen=settings.max_recent)
        self._quality: OrderedDict[str, str] = OrderedDict()
        self._queue_scores: dict[str, OrderedDict[str, float]] = {}  # queue -> recent scores by contact
        # Ended contacts, oldest first; None once settled (its summary and turns dropped, see settle()).
        self._ended: OrderedDict[str, Ended | None] = OrderedDict()
        self._unsettled: deque[Ended] = deque()  # in the order their summaries were read
        self.settled = 0
        self._churn: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._shared_reasons = Shared(MAX_SHARED_VALUES)  # bands, reason texts and reason lists (see on_churn)
        self.coaching, self.journey = Coaching(), Journey()
        self.details = ContactLog(settings.max_detail_contacts, settings.detail_max_turns)
        self.trends = Trends(settings.trends_max_keys)
        # account -> queue, agent, channel of its latest contact
        self._accounts: OrderedDict[str, tuple[str | None, str | None, str | None]] = OrderedDict()
        self._where = Shared(settings.max_contacts_remembered)  # one tuple per (queue, agent, channel)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, *views: str) -> None:
        if self._deferred is not None:
            self._deferred.update(views)
            return
        for view in views:
            for listener in list(self._listeners):
                listener(view)

    @contextlib.contextmanager
    def batched(self) -> Iterator[None]:
        """Within it, each changed view is announced once, at the end: a batch of 500 records then costs the
        dashboard's event loop a handful of callbacks (each a cross-thread wake-up), not one per record and view."""
        self._deferred = set()
        try:
            yield
        finally:
            views, self._deferred = self._deferred, None
            self._notify(*sorted(views))

    # -- inputs ---------------------------------------------------------------------------------------------
    def on_update(self, u: ContactSentimentUpdate) -> None:
        with self._lock:
            row = self._active.pop(u.contact_id, None) or {"alerts": []}
            row.update({k: getattr(u, k) for k in ("contact_id", "account_id", "agent_id", "queue", "channel",
                                                   "journey_stage", "turn", "last_label", "event_time")})
            row["customer_score"] = u.customer.rolling_score
            row["customer_trend"] = u.customer.trend
            self._active[u.contact_id] = row  # most recently active last
            _trim(self._active, self.s.max_open_contacts)
            self._touch(u.contact_id)
        self._notify("contacts")

    def on_utterance(self, u: UtteranceSentiment) -> bool:
        """Buffers a scored turn until its contact ends; True when the contact already ended (rescore it)."""
        turn = Turn(u.turn, u.speaker, u.text, u.label, u.score, u.event_time, u.journey_stage)
        with self._lock:
            if self.details.utterance(u) and u.speaker is Speaker.CUSTOMER:  # new turns only: replays count once
                self.trends.add(u.event_time, u.queue, u.channel, u.agent_id, u.score, u.label == "negative")
            self._remember_account(u)
            ended = self._ended.get(u.contact_id)
            if ended is not None:
                ended.turns[turn.turn] = turn
            elif u.contact_id not in self._ended:  # (a turn of a settled contact counts no more)
                turns = self._turns.setdefault(u.contact_id, {})
                self._turns.move_to_end(u.contact_id)
                self._touch(u.contact_id)
                if len(turns) < self.s.max_turns_per_contact:
                    turns[turn.turn] = turn  # keyed by turn: a redelivered utterance replaces itself
                _trim(self._turns, self.s.max_open_contacts)
        self._notify("trends", "contacts")  # an agent turn moves the live timeline too
        return ended is not None

    def on_escalation(self, e: Escalation) -> bool:
        """Notes the customer's score at the escalation; True when the contact already ended (rescore it)."""
        cid = e.contact_id
        with self._lock:
            live = self._active.get(cid, {}).get("customer_score")
            evidence = [t.score for t in e.evidence]
            score = min(evidence) if evidence else live if live is not None else 0.0
            ended = self._ended.get(cid)
            self.details.escalation(e)
            if ended is not None:
                ended.escalation = score
            elif cid not in self._ended:  # (nor an escalation)
                self._escalated[cid] = score
                _trim(self._escalated, self.s.max_open_contacts)
                self._touch(cid)
            self._escalations.appendleft(_packed({k: getattr(e, k) for k in (
                "event_id", "contact_id", "account_id", "agent_id", "queue", "channel", "journey_stage", "rule",
                "reason", "target_queue", "priority", "churn_probability", "event_time")}))
        self._notify("escalations")
        return ended is not None

    def on_alert(self, a: SupervisorAlert) -> None:
        alert = {k: getattr(a, k) for k in ("alert_id", "contact_id", "agent_id", "queue", "rule", "severity",
                                            "summary", "event_time")}
        with self._lock:
            self._alerts.appendleft(_packed(alert))
            self.details.alert(a)
            row = self._active.get(a.contact_id)
            if row is None and a.contact_id not in self._ended:
                # Read before the contact's first update (topics are read in parallel): its row starts here.
                row = self._active[a.contact_id] = {k: getattr(a, k) for k in (
                    "contact_id", "account_id", "agent_id", "queue", "channel", "journey_stage")} | {
                    "turn": None, "last_label": None, "customer_score": None, "customer_trend": None,
                    "event_time": a.event_time, "alerts": []}
                _trim(self._active, self.s.max_open_contacts)
            if row is not None and all(x["alert_id"] != alert["alert_id"] for x in row["alerts"]):
                row["alerts"].append(alert)
            if a.contact_id not in self._ended:
                self._touch(a.contact_id)  # the row and the drill-down entry expire with the contact
        self._notify("contacts", "alerts")

    def on_guidance(self, g: AgentGuidance) -> None:
        with self._lock:
            self.details.guidance(g)
            if g.contact_id not in self._ended:
                # Guidance can be read after its contact's other records expired (routing lags): the drill-down
                # entry it re-creates must expire too, not stay until the LRU bound pushes it out.
                self._touch(g.contact_id)
        self._notify("contacts")

    def record_correction(self, correction: LabelCorrection) -> None:
        with self._lock:
            self.details.corrected(correction.to_dict())

    def _remember_account(self, record: UtteranceSentiment) -> None:
        """The queue, agent and channel of an account's latest contact: what the churn bands filter by. Accounts
        outlive contacts, so their entries are kept in place and share one tuple per (queue, agent, channel):
        rewritten on every turn, each would be a fresh allocation among the short-lived per-contact state and
        pin a page of it after the contacts expire (see cxpulse_core.memory)."""
        if account := record.account_id:
            where = (record.queue, record.agent_id, record.channel)
            if account in self._accounts:
                self._accounts.move_to_end(account)  # the key object stays; only the value may change
            if self._accounts.get(account) != where:
                self._accounts[account] = self._where(where)
            _trim(self._accounts, self.s.max_contacts_remembered)

    def on_churn(self, account_id: str, risk: ChurnRisk | None) -> None:
        """Keeps each account's latest churn risk. An account's entry is updated in place, its band and reasons
        shared with every account that has the same ones (`Shared`), as `_remember_account` does for the same
        reason: an update leaves three new objects (probability, time, contact id) instead of eleven. (The ttl
        bench showed no RSS difference from this alone: the ended contacts' records pin more.)"""
        with self._lock:
            known = self._churn.get(account_id)
            if risk is None:  # a tombstone: the account is gone
                self._churn.pop(account_id, None)
            elif known is None or risk.as_of_time >= known["as_of_time"]:
                if known is None:
                    known = self._churn[account_id] = {"account_id": account_id}
                else:
                    self._churn.move_to_end(account_id)  # most recently updated last; the key object stays
                shared = self._shared_reasons
                known.update(
                    probability=risk.probability, band=shared(risk.band), contacts_seen=risk.contacts_seen,
                    last_contact_id=risk.last_contact_id, as_of_time=risk.as_of_time,
                    reasons=shared(tuple(shared(r.text) for r in risk.reasons)))
                _trim(self._churn, self.s.max_accounts)
        self._notify("accounts")

    def on_summary(self, summary: ContactSummary) -> tuple[QualityScore, AgentFigures | None] | None:
        """Scores an ended contact; returns its QualityScore record and its agent's new figures. None for a
        duplicate of a settled contact's summary: its turns are gone, so a new score would be a worse one."""
        cid = summary.contact_id
        with self._lock:
            if cid in self._ended and self._ended[cid] is None:
                return None
            self._active.pop(cid, None)
            self._seen.pop(cid, None)
            turns = self._turns.pop(cid, {})
            known = self._ended.pop(cid, None)
            if known is not None:  # a duplicate summary: keep the turns that came after the first one
                turns = known.turns | turns
            ended = Ended(summary, turns, self._escalated.pop(cid, known.escalation if known else None), self.clock())
            self._ended[cid] = ended
            self._unsettled.append(ended)
            while len(self._ended) > self.s.max_contacts_remembered:
                old, _ = self._ended.popitem(last=False)
                self.coaching.forget(old)
                self.journey.forget(old)
            result = self._score(cid)
        self._notify("contacts", "quality", "agents", "journey")
        return result

    def _touch(self, cid: str) -> None:  # under the lock
        self._seen[cid] = self.clock()
        self._seen.move_to_end(cid)
        _trim(self._seen, 3 * self.s.max_open_contacts)  # it tracks the union of three maps bounded so

    def expire(self) -> int:
        """Drops the contacts in progress that had no record for `contact_ttl_s` (they never ended: a lost
        ContactSummary, an abandoned chat) from the live views and the drill-down; O(number dropped). Returns how
        many."""
        horizon = self.clock() - self.s.contact_ttl_s
        gone = 0
        with self._lock:
            while self._seen:
                cid, last = next(iter(self._seen.items()))
                if last > horizon:
                    break
                del self._seen[cid]
                self._active.pop(cid, None)
                self._turns.pop(cid, None)
                self._escalated.pop(cid, None)
                self.details.forget(cid)
                gone += 1
            self.expired += gone
        if gone:
            self._notify("contacts")
        return gone

    def settle(self) -> int:
        """Drops the summary and turns of the contacts that ended over `ended_grace_s` ago: a turn or an
        escalation read later than that (topics are read in parallel, but not that far apart) no longer rescores
        them. Their outcomes stay in the coaching and journey windows, their drill-down is frozen (detail.py).
        Returns how many were settled."""
        horizon = self.clock() - self.s.ended_grace_s
        settled = 0
        with self._lock:
            while self._unsettled and self._unsettled[0].at <= horizon:
                ended = self._unsettled.popleft()
                cid = ended.summary.contact_id
                if self._ended.get(cid) is ended:  # not replaced by a later summary, not pushed out
                    self._ended[cid] = None
                    self.details.freeze(cid)
                    settled += 1
            self.settled += settled
        return settled

    def compact(self) -> None:
        """After expire() dropped many contacts: the maps it emptied, re-sized (a dict's table never shrinks on
        delete); cxpulse_core.memory.MemoryRelease calls it just before trimming the heap."""
        with self._lock:
            self._seen, self._active = compacted(self._seen), compacted(self._active)
            self._turns, self._escalated = compacted(self._turns), compacted(self._escalated)
            self.details.compact()

    def sizes(self) -> dict[str, int]:
        with self._lock:
            return {"active": len(self._active), "turns": len(self._turns), "escalated": len(self._escalated),
                    "ended": len(self._ended), "accounts": len(self._churn)}

    def rescore(self, cid: str) -> tuple[QualityScore, AgentFigures | None]:
        """Scores an ended contact again after a turn or an escalation arrived late (inputs come on several
        topics, so on a replay a summary can be read before its contact's turns)."""
        with self._lock:
            result = self._score(cid)
        self._notify("quality", "agents", "journey")
        return result

    def _score(self, cid: str) -> tuple[QualityScore, AgentFigures | None]:
        ended = self._ended[cid]
        assert ended is not None, "only an unsettled contact is scored"
        summary, turns = ended.summary, tuple(sorted(ended.turns.values(), key=lambda t: t.turn))
        facts = _facts(summary, turns, ended.escalation)
        card = scorecard(facts)
        queue = self._queue_scores.setdefault(summary.queue or "", OrderedDict())
        queue.pop(cid, None)  # a rescored contact replaces its earlier score in the queue's sample
        queue[cid] = card.score
        _trim(queue, self.s.outlier_window)
        z = robust_z(card.score, list(queue.values()), self.s.outlier_min_sample)
        flag = outlier(z, self.s.outlier_z)
        reasons = [r for r, hit in (
            ("low_score", card.score < self.s.review_score), ("low_outlier", flag == "low"),
            ("long_negative_stretch", card.longest_negative_run >= STRETCH_LIMIT),
            ("unresolved_escalation", card.escalated and (card.value("escalation_handling") or 0.0) < 0.5),
        ) if hit]
        quality = outputs.quality_score(summary, card, z, flag, reasons, version=(len(turns), card.escalated))
        record = quality.to_dict()  # the views serve it as JSON
        self._quality.pop(cid, None)
        self._quality[cid] = _packed(record)
        self.details.ended(summary, record)
        _trim(self._quality, self.s.max_recent)
        figures = None
        if agent := summary.agent_id:
            figures = self.coaching.record(ContactOutcome(cid, agent, card.stressful, card.de_escalated,
                                                          card.escalated, facts.end_score, card.score, bool(reasons)))
        self.journey.record(cid, summary.channel or "voice", stage_outcomes(
            turns, summary.journey_stage, summary.overall_score, summary.trend))
        return quality, figures

    def summary_of(self, cid: str) -> ContactSummary:
        with self._lock:
            ended = self._ended[cid]
            assert ended is not None, "only an unsettled contact is rescored"
            return ended.summary

    # -- views (copies, safe to serialize outside the lock) ---------------------------------------------------
    def active_contacts(self) -> list[dict[str, Any]]:
        points = self.s.timeline_points
        with self._lock:
            recent = itertools.islice(reversed(self._active.values()), self.s.live_rows)
            rows = [dict(r, alerts=list(r["alerts"]), series=self.details.series(r["contact_id"], points))
                    for r in recent]
        return rows

    def contact(self, cid: str) -> dict[str, Any] | None:
        """The drill-down of a live or ended contact, with its account's churn risk; None when unknown."""
        with self._lock:
            detail = self.details.get(cid)
            if detail is None:
                return None
            churn = self._churn.get(detail.context.get("account_id") or "")
            return self.details.view(cid, cid in self._active, _risk_view(churn) if churn else None)

    def turn(self, cid: str, turn: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(context, turn) of one scored turn, as the drill-down shows it; None when unknown."""
        with self._lock:
            detail = self.details.get(cid)
            if detail is None or turn not in detail.turns:
                return None
            return dict(detail.context), dict(detail.turns[turn])

    def trend(self, window: str, queue: str | None = None, agent: str | None = None,
              channel: str | None = None) -> dict[str, Any]:
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}")
        with self._lock:
            series = self.trends.series(window, queue, agent, channel)
            bands: dict[str, int] = dict.fromkeys(BANDS, 0)
            for account, risk in self._churn.items():
                q, a, c = self._accounts.get(account, (None, None, None))
                if (queue and q != queue) or (agent and a != agent) or (channel and c != channel):
                    continue
                bands[risk["band"]] = bands.get(risk["band"], 0) + 1
        return series | {"churn_bands": bands}

    def trends_changed(self) -> dict[str, Any]:
        """The SSE body of a trends change: only the newest event time (the page fetches what it shows)."""
        with self._lock:
            return {"now": self.trends.now}

    def quality(self, review_only: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            records = [json.loads(r) for r in reversed(self._quality.values())]
        return [r for r in records if r["review"] or not review_only]

    def agents(self) -> list[AgentFigures]:
        with self._lock:
            return self.coaching.table()

    def journey_heatmap(self) -> list[dict[str, Any]]:
        with self._lock:
            return self.journey.heatmap()

    def escalations(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(e) for e in self._escalations]

    def alerts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(a) for a in self._alerts]

    def at_risk(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = [_risk_view(r) | dict(zip(("queue", "agent_id", "channel"),
                                             self._accounts.get(r["account_id"], (None, None, None)), strict=True))
                    for r in self._churn.values() if r["probability"] >= self.s.at_risk_probability]
        return sorted(rows, key=lambda r: -r["probability"])


def _facts(summary: ContactSummary, turns: tuple[Turn, ...], escalation_score: float | None) -> ContactFacts:
    customer, agent = summary.customer, summary.agent
    return ContactFacts(
        contact_id=summary.contact_id, start_score=summary.start_score, end_score=summary.end_score,
        trend=summary.trend, customer_negative_turns=customer.negative_turns,
        customer_peak_anger=customer.peak_anger, customer_peak_frustration=customer.peak_frustration,
        customer_consecutive_negative=customer.consecutive_negative,
        customer_quarter_means=tuple(customer.quarter_means), agent_mean_score=agent.mean_score,
        ended_time=summary.ended_time, turns=turns, escalation_score=escalation_score)


def _risk_view(risk: dict[str, Any]) -> dict[str, Any]:
    """A copy of an account's churn entry for a reader (its shared reasons tuple as the list the API shows)."""
    return risk | {"reasons": list(risk["reasons"])}


def _packed(entry: dict[str, Any]) -> str:
    """A feed's entry as one JSON string: the feeds always hold the latest entries, so as small objects (a dict,
    its strings and floats) they would be allocated among the short-lived state of the contacts in progress and
    pin pages of the heap once those expire (cxpulse_core.memory); one string per entry pins few."""
    return json.dumps(entry, separators=(",", ":"))


def _trim(d: OrderedDict[str, Any], limit: int) -> None:
    while len(d) > limit:
        d.popitem(last=False)
