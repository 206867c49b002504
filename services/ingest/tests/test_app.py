"""Start-up: a bad setting stops ingest with one line and exit 2, before any client is made (no broker needed)."""

from __future__ import annotations

import logging

import pytest

from cxpulse_ingest.__main__ import main


@pytest.fixture(autouse=True)
def root_logger_restored():
    """main() configures the process's logging (JSON to stderr): put the test process's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("name, value, says", [
    ("INGEST_REDACT", "CARD,PASSPORT", "INGEST_REDACT: unknown types ['PASSPORT']"),
    ("INGEST_MAX_BYTES", "12", "INGEST_MAX_BYTES='12'"),
])
def test_a_bad_setting_is_one_line_and_exit_2(monkeypatch, capsys, name, value, says):
    monkeypatch.setenv(name, value)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cxpulse ingest: invalid setting") and says in err and err.count("\n") == 1
