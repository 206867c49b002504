"""Make the hand-built test inputs (insights_builders.py) importable; the dashboard server fixture."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cxpulse_insights.settings import InsightsSettings
from cxpulse_insights.state import InsightsState
from cxpulse_insights.web import WebServer


@pytest.fixture
def served():
    state = InsightsState(InsightsSettings())
    server = WebServer(state, "127.0.0.1", 0, coalesce_s=0.05).start()
    yield state, f"http://127.0.0.1:{server.port}"
    server.stop()
