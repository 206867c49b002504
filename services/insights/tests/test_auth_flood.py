"""1,000 unauthenticated requests (none, wrong bearer, wrong basic, malformed) to the page, the API and the event
stream all get 401 from a real server, which still serves /healthz and an authenticated client afterwards."""

from __future__ import annotations

import base64
import http.client
import itertools
from urllib.parse import urlparse

import pytest

from cxpulse_insights.auth import Auth, AuthSettings
from cxpulse_insights.settings import InsightsSettings
from cxpulse_insights.state import InsightsState
from cxpulse_insights.web import WebServer

PATHS = ["/", "/static/app.js", "/openapi.json", "/api/contacts/active", "/api/alerts", "/api/agents",
         "/api/journey", "/api/accounts/at-risk", "/api/quality", "/api/trends", "/api/contacts/c-1", "/api/events"]
BAD = [None, "Bearer wrong-token", "Bearer ", "Basic " + base64.b64encode(b"ana:wrong").decode(),
       "Basic " + base64.b64encode(b"mallory:s3cret-pass").decode(), "Basic !!!not-base64", "Digest x", "tok-123456"]


@pytest.fixture
def served(monkeypatch):
    monkeypatch.setenv("INSIGHTS_AUTH_USERS", "ana:s3cret-pass")
    monkeypatch.setenv("INSIGHTS_AUTH_TOKEN", "tok-123456")
    server = WebServer(InsightsState(InsightsSettings()), "127.0.0.1", 0, coalesce_s=0.05,
                       auth=Auth.from_settings(AuthSettings())).start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


def get(conn: http.client.HTTPConnection, path: str, authorization: str | None) -> int:
    conn.request("GET", path, headers={"Authorization": authorization} if authorization else {})
    reply = conn.getresponse()
    if reply.status == 200 and path == "/api/events":
        reply.close()  # an open stream: do not read to its end
        return 200
    reply.read()
    return reply.status


def test_a_thousand_unauthenticated_requests_get_401(served):
    url = urlparse(served)
    codes = []
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    for path, authorization in itertools.islice(itertools.cycle(itertools.product(PATHS, BAD)), 1000):
        try:
            codes.append(get(conn, path, authorization))
        except (http.client.HTTPException, ConnectionError):
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
            codes.append(get(conn, path, authorization))
    conn.close()
    assert len(codes) == 1000 and set(codes) == {401}
    fresh = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    assert get(fresh, "/healthz", None) == 200
    assert get(fresh, "/api/alerts", "Bearer tok-123456") == 200
    fresh.close()
