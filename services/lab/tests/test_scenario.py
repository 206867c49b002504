"""The generator: deterministic, rate and duration kept, contacts well formed, scripted contacts present,
varied wording with PII, arcs that follow the agent's skill."""

from __future__ import annotations

import itertools
import random
import re
from collections import defaultdict
from functools import cache

import pytest

from cxpulse_lab.sim import CONTACT_LENS, CXPULSE, SimEvent, generate
from cxpulse_lab.sim.conversation import choose_arc
from cxpulse_lab.sim.scripts import SCRIPTS
from cxpulse_lab.sim.wording import MAX_WORDS, MIN_WORDS

SCRIPTED_IDS = {"c-script-escalating", "c-script-calm", "c-script-recovered", "c-script-churn-1",
                "c-script-churn-2", "c-script-churn-3", "c-script-churn-4"}
CARD = re.compile(r"\b4\d{3}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b")
EMAIL = re.compile(r"[\w.]+@[\w.]+\.\w+")
PHONE = re.compile(r"555[ -)]+\d{3}[ -]\d{4}")
ANGRY = ("furious", "useless", "livid", "worst", "ridiculous", "terrible", "disgusted", "manager", "unacceptable")


@cache
def default_run() -> tuple[SimEvent, ...]:
    return tuple(generate(seed=7, rate=20, duration_s=60))


@cache
def two_minutes() -> tuple[SimEvent, ...]:
    return tuple(generate(seed=11, rate=20, duration_s=120))


def by_contact(events: tuple[SimEvent, ...] | list[SimEvent]) -> dict[str, list[SimEvent]]:
    contacts: dict[str, list[SimEvent]] = defaultdict(list)
    for event in events:
        contacts[event.contact_id].append(event)
    return contacts


def utterances(events: tuple[SimEvent, ...] | list[SimEvent], speaker: str | None = None) -> list[SimEvent]:
    return [e for e in events if e.type == "utterance" and (speaker is None or e.payload["speaker"] == speaker)]


def test_same_seed_same_events_and_different_seed_differs() -> None:
    assert generate(seed=3, rate=10, duration_s=30) == generate(seed=3, rate=10, duration_s=30)
    other = generate(seed=4, rate=10, duration_s=30)
    assert [e.payload.get("text") for e in other] != [e.payload.get("text") for e in generate(3, 10, 30)]


@pytest.mark.parametrize(("rate", "duration"), [(20, 60), (5, 120), (50, 30), (20, 300)])
def test_rate_and_duration_within_ten_percent(rate: float, duration: float) -> None:
    events = generate(seed=1, rate=rate, duration_s=duration)
    assert abs(len(utterances(events)) / duration - rate) <= 0.1 * rate
    assert 0.9 * duration <= events[-1].at_s <= duration
    assert events[0].at_s >= 0


def test_events_are_time_ordered() -> None:
    times = [e.at_s for e in default_run()]
    assert times == sorted(times)


def test_every_contact_starts_ends_and_counts_up() -> None:
    for contact_id, events in by_contact(default_run()).items():
        assert events[0].type == "contact_started", contact_id
        assert events[-1].type == "contact_ended", contact_id
        assert all(e.type == "utterance" for e in events[1:-1]), contact_id
        sequences = [e.payload["sequence"] for e in events]
        assert sequences == list(range(1, len(events) + 1)), contact_id
        times = [e.at_s for e in events]
        assert all(a < b for a, b in itertools.pairwise(times)), contact_id
        assert len({e.format for e in events}) == 1 and len({e.account_id for e in events}) == 1


def test_many_contacts_run_at_once() -> None:
    spans = [(es[0].at_s, es[-1].at_s) for es in by_contact(default_run()).values()]
    concurrent_at_30s = sum(start <= 30 <= end for start, end in spans)
    assert concurrent_at_30s >= 30


def test_mix_of_formats_channels_stages_agents() -> None:
    contacts = by_contact(default_run())
    starts = [es[0] for es in contacts.values()]
    lens_share = sum(s.format == CONTACT_LENS for s in starts) / len(starts)
    assert 0.12 <= lens_share <= 0.35
    assert {s.payload["channel"] for s in starts} == {"voice", "chat"}
    assert {"billing", "technical_support", "cancellation", "sales", "onboarding", "ivr"} <= {
        s.payload["journey_stage"] for s in starts}
    assert len({s.payload["agent_id"] for s in starts}) >= 30
    assert {"agent", "customer", "bot"} <= {e.payload["speaker"] for e in utterances(default_run())}
    assert {"completed", "abandoned"} <= {es[-1].payload["status"] for es in contacts.values()}


def test_contact_lens_share_is_configurable() -> None:
    for share, low, high in ((0.0, 0.0, 0.0), (1.0, 0.8, 1.0)):
        starts = [es[0] for cid, es in by_contact(generate(2, 10, 60, share, script="none")).items()]
        assert low <= sum(s.format == CONTACT_LENS for s in starts) / len(starts) <= high


def test_customer_wording_is_varied_and_sized() -> None:
    texts = [e.payload["text"] for e in utterances(two_minutes(), "customer")]
    assert len(texts) > 800
    assert len(set(texts)) / len(texts) > 0.8
    assert all(MIN_WORDS <= len(t.split()) <= MAX_WORDS for t in texts)
    lengths = {len(t.split()) for t in texts}
    assert min(lengths) <= 5 and max(lengths) >= 20
    agent_texts = [e.payload["text"] for e in utterances(two_minutes(), "agent")]
    assert len(set(agent_texts)) / len(agent_texts) > 0.4


def test_pii_in_some_customer_turns_only() -> None:
    customer = " ".join(e.payload["text"] for e in utterances(two_minutes(), "customer"))
    for pattern in (CARD, EMAIL, PHONE):
        assert len(pattern.findall(customer)) >= 5, pattern.pattern
    agent = " ".join(e.payload["text"] for e in utterances(two_minutes(), "agent"))
    assert not CARD.search(agent) and not EMAIL.search(agent)


def test_feelings_span_anger_to_gratitude() -> None:
    moods = {e.payload["mood"] for e in utterances(two_minutes(), "customer")}
    assert moods == {-3, -2, -1, 0, 1, 2}
    text = " ".join(e.payload["text"].lower() for e in utterances(two_minutes(), "customer"))
    for phrase in ("on hold for", "charged me twice", "confused", "worried", "thank you", "oh great", "cancel"):
        assert phrase in text, phrase


def test_repeat_callers_get_worse() -> None:
    contacts = by_contact(generate(5, 20, 600, script="none"))
    first_moods: dict[str, list[int]] = defaultdict(list)
    for events in sorted(contacts.values(), key=lambda es: es[0].at_s):
        said = [e.payload["mood"] for e in events if e.type == "utterance" and e.payload["speaker"] == "customer"]
        if said and events[0].payload["journey_stage"] != "ivr":
            first_moods[events[0].account_id].append(said[0])
    repeaters = [m for m in first_moods.values() if len(m) >= 3]
    assert len(repeaters) >= 5
    assert sum(m[-1] < m[0] for m in repeaters) > sum(m[-1] > m[0] for m in repeaters)


def test_skilled_agents_turn_upset_customers_round_more_often() -> None:
    def recovered(skill: float) -> float:
        rng = random.Random(0)
        arcs = [choose_arc(rng, skill, 0, "billing") for _ in range(4000)]
        upset = [arc for arc, first, _ in arcs if first <= -1]
        return sum(arc == "recovered" for arc in upset) / len(upset)
    assert recovered(0.9) > recovered(0.1) + 0.4


@pytest.mark.parametrize("script", [None, "e2e"])
def test_scripted_contacts_present_and_complete_within_60s(script: str | None) -> None:
    contacts = by_contact(generate(7, 20, 60, script=script))
    assert set(contacts) >= SCRIPTED_IDS
    if script == "e2e":
        assert set(contacts) == SCRIPTED_IDS
    for contact_id in SCRIPTED_IDS:
        events = contacts[contact_id]
        assert events[0].format == CXPULSE and events[-1].type == "contact_ended"
        assert events[-1].at_s <= 60
    assert {contacts[f"c-script-churn-{n}"][0].account_id for n in range(1, 5)} == {"acct-script-churn"}
    assert contacts["c-script-escalating"][0].account_id == "acct-script-escalating"
    assert contacts["c-script-calm"][0].account_id == "acct-script-calm"


def test_scripted_contacts_say_exactly_their_script() -> None:
    contacts = by_contact(generate(7, 20, 60, script="e2e"))
    for script in SCRIPTS:
        said = [e.payload["text"] for e in utterances(contacts[script.contact_id])]
        assert said == [text for _, _, text in script.turns]


def test_scripted_arcs() -> None:
    contacts = by_contact(generate(7, 20, 60, script="e2e"))
    escalating = [e for e in utterances(contacts["c-script-escalating"], "customer")]
    assert len(escalating) == 8
    moods = [e.payload["mood"] for e in escalating]
    assert moods == sorted(moods, reverse=True) and moods[-1] == -3
    assert all(any(w in e.payload["text"].lower() for w in ANGRY) for e in escalating[-4:])
    assert all(e.payload["mood"] >= 0 for e in utterances(contacts["c-script-calm"], "customer"))
    recovered = [e.payload["mood"] for e in utterances(contacts["c-script-recovered"], "customer")]
    assert recovered[0] < 0 < recovered[-1]
    churn = [[e.payload["mood"] for e in utterances(contacts[f"c-script-churn-{n}"], "customer")]
             for n in range(1, 5)]
    averages = [sum(m) / len(m) for m in churn]
    assert averages == sorted(averages, reverse=True) and len(set(averages)) == 4
    starts = [contacts[f"c-script-churn-{n}"][0].at_s for n in range(1, 5)]
    assert starts == sorted(starts) and starts[-1] - starts[0] > 30
    assert "cancel" in utterances(contacts["c-script-churn-4"], "customer")[-1].payload["text"].lower()
    assert contacts["c-script-churn-4"][-1].payload["disposition"] == "cancellation_requested"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generate(1, rate=0)
    with pytest.raises(ValueError):
        generate(1, contact_lens_share=1.5)
    with pytest.raises(ValueError):
        generate(1, script="nope")
