"""The supervisor dashboard in a real headless browser (Debian's chromium driven by playwright-core): the page
loads, shows the data of a pipeline run produced to the service's input topics, and updates live (SSE) when
new events arrive, without a reload and without any outside resource. Screenshots: out/test-artifacts/browser/."""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from insights_data import ANGRY, CALM, alert, churn, contact_records, escalation, guidance, send

from cxpulse_core import topics
from cxpulse_core.serde import SingleObjectSerde
from cxpulse_core.testing.kafka import consume
from cxpulse_core.testing.services import start_loop
from cxpulse_insights.app import build
from cxpulse_insights.auth import Auth
from cxpulse_insights.settings import InsightsSettings

pytestmark = pytest.mark.kafka
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parents[1] / "out" / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
    if shutil.which("node") is None:
        return "no node on PATH"
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        return "playwright-core not installed (npm ci --prefix tests/browser)"
    return None


class Driver:
    """The node driver as a subprocess, speaking JSON lines on stdout and reading commands on stdin."""

    def __init__(self, base: str, user: str, password: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(["node", str(HERE / "dashboard.mjs"), base, str(ARTIFACTS)], text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=os.environ | {
                                         "CHROMIUM_PATH": CHROMIUM, "DASHBOARD_USER": user,
                                         "DASHBOARD_PASSWORD": password})
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def step(self, timeout_s: float = 40) -> dict:
        try:
            reply = json.loads(self.lines.get(timeout=timeout_s))
        except queue.Empty:
            raise AssertionError("the browser driver said nothing in time") from None
        assert reply["step"] != "error", reply
        return reply

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close(self) -> int:
        try:
            return self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def test_dashboard_shows_the_pipeline_and_updates_live(kafka_settings, cx_runtime):
    if missing := _missing():
        pytest.skip(f"browser test needs chromium and playwright-core: {missing}")
    live = contact_records("c-live", "agent-a", [*ANGRY[:3], *ANGRY[4:], CALM[-1]])
    first = [escalation("c-angry", "agent-b"), guidance("c-angry", "agent-b", 2),
             *contact_records("c-calm", "agent-a", CALM),
             *contact_records("c-angry", "agent-b", ANGRY), *live[:-1], alert("c-live", "agent-a"),
             churn("acct-c-angry", 0.86, "4 contacts in 7 days")]
    # Then: c-live ends, c-new starts angry and is escalated, agent-c's first contact, a new account at risk.
    second = [live[-1], escalation("c-new", "agent-a"), alert("c-new", "agent-a"),
              churn("acct-c-new", 0.95, "asked to cancel"), *contact_records("c-new", "agent-a", ANGRY[:2], end=False),
              *contact_records("c-other", "agent-c", CALM)]
    # Then: c-new's next two turns (its live timeline moves).
    more = contact_records("c-new", "agent-a", ANGRY[:4], end=False)[-3:]
    send(kafka_settings, cx_runtime, first)
    settings = InsightsSettings(web_host="127.0.0.1", web_port=0, sse_coalesce_s=0.1)
    insights = build(settings, cx_runtime)
    password = secrets.token_urlsafe(12)
    web = insights.web(settings, kafka_settings, Auth({"supervisor-ana": password.encode()})).start()
    driver = None
    try:
        with start_loop(kafka_settings, insights.config, insights.handler):
            driver = Driver(f"http://127.0.0.1:{web.port}", "supervisor-ana", password)
            locked = driver.step()["locked"]
            assert locked.pop("/healthz") == [200, 200]
            assert all(codes == [401, 401] for codes in locked.values()), locked
            loaded = driver.step()
            assert "c-live" in loaded["live"] and "anger_spike" in loaded["live"]
            assert "retention" in loaded["escalation"] and "agent-b" in loaded["agent"]
            assert "86%" in loaded["account"] and "4 contacts in 7 days" in loaded["account"]
            assert "drop 50%" in loaded["journey"] and "2 contacts" in loaded["journey"]
            assert loaded["reviewRows"] >= 1
            first_load = sum(entry["bytes"] for entry in loaded["firstLoad"])
            assert any(e["name"].endswith("/static/app.js") and e["body"] > 0 for e in loaded["firstLoad"])
            assert 0 < first_load <= 300_000, loaded["firstLoad"]  # the page-weight budget
            send(kafka_settings, cx_runtime, second)
            driver.send("go")
            updated = driver.step()
            send(kafka_settings, cx_runtime, more)
            driver.send("more")
            timeline = driver.step()
            corrected = driver.step()
            filtered = driver.step()
    finally:
        if driver is not None:
            driver.close()
        web.stop()
    assert updated["noReload"] and updated["updates"] > 0
    assert "c-new" in updated["newContact"] and "c-new" in updated["firstEscalation"]
    assert "acct-c-new" in updated["firstAccount"] and updated["agents"] == 3
    # The live timeline moved on without a reload, with its alert and escalation markers.
    assert timeline["after"] > timeline["before"] and timeline["pointsAfter"] > timeline["pointsBefore"]
    assert timeline["noReload"]
    # The drill-down shows the redacted transcript with guidance, quality reasons and churn reasons.
    assert "contact=c-angry" in corrected["url"] and corrected["status"] == "ended" and corrected["turns"] == 6
    assert "This is ridiculous." in corrected["turn3"] and "negative" in corrected["turn3"]
    assert "sorry, let me fix that" in corrected["guidance"] and "trajectory" in corrected["quality"]
    assert "4 contacts in 7 days" in corrected["churn"]
    assert "saved: neutral" in corrected["saved"] and "corrected to neutral" in corrected["corrected"]
    # The correction made in the page is on cx.feedback.labels, read back from the broker.
    [message] = consume(kafka_settings, cx_runtime.topic(topics.FEEDBACK_LABELS), 1, timeout_s=30)
    stored = SingleObjectSerde().decode(message.value()).value
    assert (stored["contact_id"], stored["turn"], stored["text"]) == ("c-angry", 3, "This is ridiculous.")
    assert (stored["model_label"], stored["corrected_label"], stored["model_version"]) == ("negative", "neutral",
                                                                                           "test")
    assert stored["corrected_by"] == "supervisor-ana" and "supervisor-ana" in corrected["saved"]
    # Filters: kept in the shared URL, applied on reload to every panel and to the trends.
    assert "agent=agent-c" in filtered["url"] and filtered["select"] == "agent-c"
    assert [row.split("\t")[0] for row in filtered["agents"]] == ["agent-c"] and filtered["liveRows"] == 0
    assert filtered["escalations"] == 0 and filtered["criticalAccounts"] == 0
    assert filtered["outside"] == [] and filtered["errors"] == []
    for shot in ("1-loaded", "2-updated", "3-timelines", "4-drilldown", "5-corrected", "6-filtered", "7-trends"):
        assert (ARTIFACTS / f"{shot}.png").stat().st_size > 0, shot
