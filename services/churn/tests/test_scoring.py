from churn_helpers import AS_OF, contact

from cxpulse_churn.features import DAY_MS
from cxpulse_churn.history import add_entry, mark_escalated
from cxpulse_churn.model import ChurnModel
from cxpulse_churn.scoring import Job, contact_job, decay_due, horizon_ms, new_state, score_jobs

MODEL = ChurnModel.load()


def history(*entries):
    h = []
    for e in entries:
        h = add_entry(h, e)
    return h


def test_a_contact_score_refers_to_the_latest_contact_even_when_an_older_one_arrives_late():
    late = history(contact("c1", 10, -0.5), contact("c3", 2, -0.5), contact("c2", 5, -0.5))
    job = contact_job("acct", late, origin_time=1)
    assert job.as_of == late[-1]["ended_time"] and job.trigger == "contact"
    [record] = score_jobs(MODEL, [job], now_ms=AS_OF)
    assert record["last_contact_id"] == "c3" and record["contacts_seen"] == 3
    assert record["model_version"] == MODEL.version and record["reasons"]


def test_event_ids_are_deterministic_and_change_only_with_the_state():
    h = history(contact("c1", 10, -0.5), contact("c2", 2, -0.5))
    a = score_jobs(MODEL, [contact_job("acct", h, 1)], now_ms=1)[0]
    replay = score_jobs(MODEL, [contact_job("acct", add_entry(h, contact("c2", 2, -0.5)), 1)], now_ms=2)[0]
    assert replay["event_id"] == a["event_id"] and replay["probability"] == a["probability"]
    escalated = score_jobs(MODEL, [contact_job("acct", mark_escalated(h, "c1"), 1)], now_ms=1)[0]
    older = score_jobs(MODEL, [contact_job("acct", add_entry(h, contact("c0", 20, -0.5)), 1)], now_ms=1)[0]
    assert len({a["event_id"], escalated["event_id"], older["event_id"]}) == 3
    decay = score_jobs(MODEL, [Job("acct", h, AS_OF + DAY_MS, "decay", AS_OF)], now_ms=1)[0]
    assert decay["event_id"] != a["event_id"] and decay["trigger"] == "decay"


def test_a_pending_escalation_alone_is_not_scored():
    assert contact_job("acct", mark_escalated([], "c9", at_ms=AS_OF), 1) is None


def test_decay_is_due_after_the_interval_and_stops_once_the_features_saturate():
    state = {**new_state(0), "scored_at": AS_OF, "last_contact_time": AS_OF}
    after, horizon = DAY_MS, horizon_ms(366)
    assert not decay_due(new_state(0), AS_OF, after, horizon)
    assert not decay_due(state, AS_OF + after - 1, after, horizon)
    assert decay_due(state, AS_OF + after, after, horizon)
    saturated = {**state, "scored_at": AS_OF + 400 * DAY_MS}
    assert not decay_due(saturated, AS_OF + 500 * DAY_MS, after, horizon)


def test_a_batch_scores_in_job_order():
    jobs = [Job(f"a{i}", history(contact("c", i + 1, -0.5 if i % 2 else 0.5)), AS_OF, "decay", AS_OF)
            for i in range(5)]
    assert [r["account_id"] for r in score_jobs(MODEL, jobs, now_ms=AS_OF)] == [f"a{i}" for i in range(5)]
    assert score_jobs(MODEL, [], now_ms=AS_OF) == []
