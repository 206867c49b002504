"""Deterministic traffic: `generate(seed, rate, duration_s, ...)` -> time-ordered SimEvents.

Model: N lines, each staffed by one agent, take contacts back to back (a short wrap-up between them), so
many contacts run at once and their turns interleave. Contacts that would outlast the run get fewer turns,
or the line closes. N is calibrated (a few deterministic reruns) until the run holds rate x duration
utterances within ~3%. Accounts keep a history: an unresolved contact leaves an open issue, and the same
account calls again later, starting angrier each time, until it threatens to cancel."""

from __future__ import annotations

import heapq
import random
import uuid

from .conversation import Conversation, converse, ivr
from .events import CONTACT_LENS, CXPULSE, ContactInfo, SimEvent, timeline
from .population import STAGE_WEIGHTS, STAGES, Account, Agent, Population, contact_values, make_population, queue_for
from .scripts import scripted_events
from .wording import Wording, phrases

SCRIPTS = (None, "e2e", "none")  # None: traffic + scripted contacts; "e2e": scripted only; "none": traffic only
CHAT_SHARE, IVR_SHARE, ABANDON_SHARE, DROP_SHARE, REPEAT_SHARE = 0.35, 0.07, 0.03, 0.01, 0.3
SECONDS_PER_UTTERANCE_PER_LINE = 5.0  # first guess for the calibration


def generate(seed: int = 7, rate: float = 20.0, duration_s: float = 60.0, contact_lens_share: float = 0.25,
             script: str | None = None) -> list[SimEvent]:
    if rate <= 0 or duration_s <= 0 or not 0.0 <= contact_lens_share <= 1.0:
        raise ValueError("rate and duration must be positive, contact_lens_share within 0..1")
    if script not in SCRIPTS:
        raise ValueError(f"unknown script {script!r}; expected one of {SCRIPTS}")
    events = scripted_events(duration_s) if script in (None, "e2e") else []
    if script != "e2e":
        target = rate * duration_s - sum(e.type == "utterance" for e in events)
        events += _calibrated_traffic(seed, target, duration_s, contact_lens_share)
    events.sort(key=lambda e: (e.at_s, e.contact_id, e.payload["sequence"]))
    return events


def _calibrated_traffic(seed: int, target: float, duration_s: float, cl_share: float) -> list[SimEvent]:
    if target < 1:
        return []
    lines = max(1, round(target * SECONDS_PER_UTTERANCE_PER_LINE / duration_s))
    events: list[SimEvent] = []
    for _ in range(6):
        events = Traffic(seed, lines, duration_s, cl_share).run()
        count = sum(e.type == "utterance" for e in events)
        if count and abs(count - target) <= 0.03 * target:
            break
        lines = max(1, round(lines * min(3.0, target / max(count, 1))))  # bounded: short runs fit few contacts
    return events


class Traffic:
    def __init__(self, seed: int, lines: int, duration_s: float, cl_share: float) -> None:
        self.rng = rng = random.Random(seed)
        self.seed, self.duration, self.cl_share = seed, duration_s, cl_share
        self.pace = min(1.0, duration_s / 60.0)  # runs under a minute compress every contact's gaps
        expected_contacts = lines * duration_s / 45 + 1
        self.population: Population = make_population(rng, max(20, int(expected_contacts * 0.7)), lines)
        self.issue_reasons = {stage: sorted(phrases()["issues"][stage]) for stage in STAGES}
        self.contacts = 0

    def run(self) -> list[SimEvent]:
        rng, events = self.rng, []
        free = [(rng.uniform(0.0, 4.0), i) for i in range(len(self.population.agents))]
        heapq.heapify(free)
        while free:
            at, line = heapq.heappop(free)
            contact = self._contact(self.population.agents[line], at)
            if contact:
                events += contact
                heapq.heappush(free, (contact[-1].at_s + rng.uniform(1.0, 4.0), line))
        return events

    def _pick_account(self, at: float) -> tuple[Account, bool]:
        rng, pop = self.rng, self.population
        waiting = [a for a in pop.open_issues if a.busy_until < at and not a.churned]
        if waiting and rng.random() < REPEAT_SHARE:
            return rng.choice(waiting), True
        for _ in range(8):
            account = rng.choice(pop.accounts)
            if account.busy_until < at and not account.churned and account.open_stage is None:
                return account, False
        return rng.choice(pop.accounts), False

    def _contact(self, agent: Agent, at: float) -> list[SimEvent] | None:
        rng = self.rng
        account, repeat = self._pick_account(at)
        stage = account.open_stage if repeat else rng.choices(STAGES, STAGE_WEIGHTS)[0]
        reason = account.open_reason if repeat else rng.choice(self.issue_reasons[stage])
        is_ivr = not repeat and rng.random() < IVR_SHARE
        chat = not is_ivr and rng.random() < CHAT_SHARE
        fmt = CONTACT_LENS if not is_ivr and rng.random() < self.cl_share else CXPULSE
        self.contacts += 1
        contact_id = (str(uuid.UUID(int=rng.getrandbits(128), version=4)) if fmt == CONTACT_LENS
                      else f"c-{self.seed}-{self.contacts:06d}")
        info = ContactInfo(contact_id, account.account_id, account.customer_id, None if is_ivr else agent.agent_id,
                           queue_for("ivr" if is_ivr else stage, account, rng), "chat" if chat else "voice",
                           "ivr" if is_ivr else stage, reason, fmt, account.first_name, agent.name)
        words = Wording(rng, contact_values(rng, account, agent.name), account.industry)
        status = rng.choices(("completed", "abandoned", "failed"), (1 - ABANDON_SHARE - DROP_SHARE,
                                                                     ABANDON_SHARE, DROP_SHARE))[0]
        turns = rng.randint(2, 6) if chat else rng.randint(3, 8)
        while turns >= 2:
            if is_ivr:
                conversation = ivr(rng, words)
            else:
                want_pii = rng.random() < (0.35 if stage in ("billing", "cancellation", "onboarding") else 0.15)
                conversation = converse(rng, words, stage=stage, reason=reason, skill=agent.skill,
                                        unresolved=account.unresolved, customer_turns=turns, chat=chat,
                                        want_pii=want_pii)
            if status == "abandoned":  # hung up waiting in the queue: no conversation
                conversation = Conversation("abandoned", [], False, "abandoned_in_queue")
            elif status == "failed":  # dropped halfway
                half = conversation.turns[:len(conversation.turns) // 2]
                conversation = Conversation(conversation.arc, half, False, "call_dropped")
            events = timeline(rng, info, conversation, at, pace=self.pace, status=status)
            if events[-1].at_s <= self.duration:
                self._remember(account, stage, reason, conversation.arc, conversation.resolved, events[-1].at_s)
                return events
            turns -= 1
        return None

    def _remember(self, account: Account, stage: str, reason: str, arc: str, resolved: bool, end: float) -> None:
        account.contacts += 1
        account.busy_until = end + 5.0
        if arc in ("ivr", "abandoned"):
            return
        open_issues = self.population.open_issues
        if resolved:
            account.unresolved, account.open_stage, account.open_reason = 0, None, None
            if account in open_issues:
                open_issues.remove(account)
            return
        account.unresolved += 1
        account.open_stage, account.open_reason = stage, reason
        account.churned = arc == "churn"
        if account not in open_issues and not account.churned:
            open_issues.append(account)
        elif account.churned and account in open_issues:
            open_issues.remove(account)
