"""Start-up configuration errors are one line naming the variable (exit 2); repeated client errors are throttled."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest

from cxpulse_core.kafka import ErrorBackoff


@pytest.mark.parametrize(("env", "expected"), [
    ({"CXPULSE_DLQ_MIN_MESSAGES": "-5"}, "CXPULSE_DLQ_MIN_MESSAGES"),
    ({"CXPULSE_DLQ_WINDOW": "-1"}, "CXPULSE_DLQ_WINDOW"),
    ({"CXPULSE_HTTP_PORT": "-1"}, "CXPULSE_HTTP_PORT"),
    ({"INGEST_MAX_BYTES": "lots"}, "INGEST_MAX_BYTES"),
    ({"INGEST_REDACT": "CARD,PASSPORT"}, "INGEST_REDACT"),
    ({"KAFKA_SECURITY_PROTOCOL": "carrier-pigeon"}, "security.protocol"),
])
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(env: dict[str, str], expected: str) -> None:
    done = subprocess.run([sys.executable, "-m", "cxpulse_ingest"], env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in done.stderr, done.stderr


def test_secrets_are_not_echoed() -> None:
    done = subprocess.run([sys.executable, "-m", "cxpulse_ingest"], env={"PATH": "/usr/bin:/bin",
                          "CXPULSE_HTTP_PORT": "x", "KAFKA_SASL_PASSWORD": "hunter2"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "hunter2" not in done.stderr


def test_repeated_client_errors_are_logged_with_back_off() -> None:
    now = [0.0]
    backoff = ErrorBackoff(first_s=1.0, max_s=8.0, clock=lambda: now[0])
    logged = []
    for _ in range(1000):  # an error every 0.1 s for 100 s
        ok, suppressed = backoff.should_log(58)
        if ok:
            logged.append((now[0], suppressed))
        now[0] += 0.1
    gaps = [round(b[0] - a[0]) for a, b in itertools.pairwise(logged)]
    assert gaps[:4] == [1, 2, 4, 8] and set(gaps[4:]) == {8}  # 1, 2, 4 ... capped
    reported = sum(s for _, s in logged) + len(logged)
    assert len(logged) < 20 and 1000 - 80 <= reported <= 1000  # every one counted (the last 8 s in the next line)
