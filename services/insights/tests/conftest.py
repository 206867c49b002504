"""The dashboard server fixture."""

import pytest

from cxpulse_insights.settings import InsightsSettings
from cxpulse_insights.state import InsightsState
from cxpulse_insights.web import WebServer


@pytest.fixture
def served():
    state = InsightsState(InsightsSettings())
    server = WebServer(state, "127.0.0.1", 0, coalesce_s=0.05).start()
    yield state, f"http://127.0.0.1:{server.port}"
    server.stop()
