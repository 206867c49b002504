"""The rules file: validation errors name the file, the rule, the field and what is wrong; reloads keep state."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conversations import conversation

from cxpulse_routing.engine import ContactState, evaluate
from cxpulse_routing.rules import RulesError, RulesFile, load_rules

GOOD = """
version: 1
rules:
  - name: sustained_negative
    when: {consecutive_below: {score: -0.4, turns: 3}}
    escalate: {queue: tier2_support, priority: 3}
"""


def write(tmp_path, text: str):
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text))
    return path


R1 = "rules:\n  - name: r1\n"
WHEN2 = "    when: {consecutive_below: {score: -0.4, turns: 2}}\n"


@pytest.mark.parametrize(("body", "expected"), [
    (R1 + "    when: {consecutive_below: {score: -0.4, turns: 0}}\n    escalate: {queue: q, priority: 1}\n",
     "rule 'r1': field 'when'.consecutive_below.turns: must be an integer in [1, 20], got 0"),
    (R1 + "    when: {emotion_above: {emotions: [anger]}}\n    alert: {severity: warning}\n",
     "rule 'r1': field 'when'.emotion_above.probability: is required"),
    (R1 + "    when: {fields: {churn.prob: {gte: 0.5}}}\n    alert: {severity: warning}\n",
     "rule 'r1': field 'when'.fields.churn.prob: unknown field"),
    (R1 + "    when: {fields: {account_id: {in_list: vips}}}\n    alert: {severity: warning}\n",
     "rule 'r1': field 'when'.fields.account_id.in_list: names no list under 'lists'"),
    (R1 + "    when: {fields: {account_id: {matches: '(vip'}}}\n    alert: {severity: warning}\n",
     "invalid regular expression"),
    (R1 + WHEN2 + "    alert: {severity: loud}\n",
     "rule 'r1': field 'alert.severity': must be one of info, warning, critical, got 'loud'"),
    (R1 + WHEN2 + "    escalate: {queue: q, priority: 9}\n",
     "rule 'r1': field 'escalate.priority': must be an integer in [1, 5], got 9"),
    (R1 + WHEN2,
     "rule 'r1': needs 'escalate', 'alert' or both"),
    (R1 + WHEN2 + "    escalate: {queue: q, priority: 1}\n"
     "    cooldown: 30\n", "rule 'r1'.cooldown: unknown field"),
    ("rules:\n  - name: Bad Name\n" + WHEN2 + "    alert: {severity: info}\n",
     "field 'name': must match"),
    (R1 + WHEN2 + "    alert: {severity: info}\n"
     "  - name: r1\n    when: {consecutive_below: {score: -0.4, turns: 2}}\n    alert: {severity: info}\n",
     "rule 'r1': name is used by more than one rule"),
    (R1 + "    when: {}\n    alert: {severity: info}\n", "needs at least one condition"),
    ("rules: [\n", "not valid YAML"),
])
def test_an_invalid_rules_file_fails_clearly(tmp_path, body, expected):
    path = write(tmp_path, body)
    with pytest.raises(RulesError) as failure:
        load_rules(path)
    assert str(path) in str(failure.value)
    assert expected in str(failure.value)


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, """
        rules:
          - name: a
            when: {consecutive_below: {score: -3, turns: 2}}
            escalate: {queue: q, priority: 0}
          - name: b
            when: {score_drop: {by: 1}}
            alert: {severity: info, team: "{nope}"}
        """)
    with pytest.raises(RulesError) as failure:
        load_rules(path)
    message = str(failure.value)
    assert "rule 'a': field 'when'.consecutive_below.score" in message
    assert "rule 'a': field 'escalate.priority'" in message
    assert "rule 'b': field 'when'.score_drop.within_turns: is required" in message
    assert "rule 'b': field 'alert.team': placeholder {nope} is not a known field" in message


def _check(rules: Path) -> subprocess.CompletedProcess[str]:
    """`python -m cxpulse_routing --check` in a process of its own: the app reads its settings on start."""
    return subprocess.run([sys.executable, "-m", "cxpulse_routing", "--check"], capture_output=True, text=True,
                          env=os.environ | {"ROUTING_RULES_PATH": str(rules)}, timeout=300)


def test_the_service_refuses_to_start_on_an_invalid_rules_file(tmp_path):
    refused = _check(write(tmp_path, R1 + "    when: {}\n"))
    assert refused.returncode == 2 and "rule 'r1'" in refused.stderr
    assert _check(write(tmp_path, GOOD)).returncode == 0


def test_reload_on_change_keeps_contact_state_and_a_bad_edit_keeps_the_old_rules(tmp_path):
    path = write(tmp_path, GOOD)
    rules = RulesFile(path)
    state = ContactState()
    updates = conversation([-0.5, -0.5, -0.5, -0.5])
    assert evaluate(rules.rules, state, updates[0], None).escalation is None
    assert evaluate(rules.rules, state, updates[1], None).escalation is None
    path.write_text(GOOD.replace("turns: 3", "turns: 2"))
    os.utime(path, ns=(rules.mtime + 10**9, rules.mtime + 10**9))
    assert rules.maybe_reload() and not rules.maybe_reload()
    # The two negative turns seen before the reload count: the new 2-turn rule fires on the third.
    assert evaluate(rules.rules, state, updates[2], None).escalation.rule.name == "sustained_negative"
    path.write_text("rules: {broken")
    os.utime(path, ns=(rules.mtime + 2 * 10**9, rules.mtime + 2 * 10**9))
    with pytest.raises(RulesError):
        rules.maybe_reload()
    assert rules.rules.rules[0].when["consecutive_below"]["turns"] == 2  # still the last good rules
    assert not rules.maybe_reload()  # the bad version is not retried until the file changes again


def test_disabled_rules_are_validated_but_not_run(tmp_path):
    rules = load_rules(write(tmp_path, GOOD.replace("    escalate:", "    enabled: false\n    escalate:")))
    assert rules.rules == ()
