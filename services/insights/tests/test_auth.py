"""Access control on a real socket: without credentials only /healthz answers; basic auth (people) and a bearer
token (machines) from secrets in the environment; the authenticated user reaches the handlers."""

import base64
import urllib.error
import urllib.request

import pytest

from cxpulse_insights.auth import Auth, AuthConfigError, AuthSettings
from cxpulse_insights.settings import InsightsSettings
from cxpulse_insights.state import InsightsState
from cxpulse_insights.web import WebServer

PATHS = ["/", "/static/app.js", "/static/style.css", "/openapi.json", "/api/contacts/active", "/api/contacts/c-1",
         "/api/trends", "/api/quality", "/api/agents", "/api/journey", "/api/accounts/at-risk", "/api/alerts",
         "/api/escalations", "/api/events"]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def served(monkeypatch):
    monkeypatch.setenv("INSIGHTS_AUTH_USERS", "ana:s3cret-pass,bob:other")
    monkeypatch.setenv("INSIGHTS_AUTH_TOKEN", "tok-123456")
    auth = Auth.from_settings(AuthSettings())
    server = WebServer(InsightsState(InsightsSettings()), "127.0.0.1", 0, coalesce_s=0.05, auth=auth).start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


def status(url: str, authorization: str | None = None, data: bytes | None = None) -> tuple[int, dict]:
    headers = {"Authorization": authorization} if authorization else {}
    if data is not None:
        headers["Content-Type"] = "application/json"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=5) as reply:
            return reply.status, dict(reply.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@pytest.mark.parametrize("path", PATHS)
def test_nothing_but_healthz_answers_without_credentials(served, path):
    code, headers = status(served + path)
    assert code == 401 and 'Basic realm="cxpulse insights"' in headers["WWW-Authenticate"]
    assert "Bearer" in headers["WWW-Authenticate"]
    for wrong in (basic("ana", "guess"), basic("eve", "s3cret-pass"), "Bearer nope", "Bearer", "Basic !!!",
                  basic("ana", ""), "Digest x"):
        assert status(served + path, wrong)[0] == 401, wrong
    assert status(served + "/api/corrections", data=b"{}")[0] == 401
    assert status(served + "/healthz")[0] == 200


def test_basic_auth_and_the_bearer_token_let_requests_in(served):
    assert status(served + "/api/contacts/active", basic("ana", "s3cret-pass"))[0] == 200
    assert status(served + "/api/trends", basic("bob", "other"))[0] == 200
    assert status(served + "/", "Bearer tok-123456")[0] == 200
    # An authenticated correction gets past the door (and fails later for lack of Kafka, saying so).
    assert status(served + "/api/corrections", "Bearer tok-123456", b"{}")[0] == 503


def test_configuration(monkeypatch):
    for name in ("INSIGHTS_AUTH_USERS", "INSIGHTS_AUTH_TOKEN", "INSIGHTS_AUTH_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(AuthConfigError, match="needs credentials"):
        Auth.from_settings(AuthSettings())
    monkeypatch.setenv("INSIGHTS_AUTH_USERS", "ana")
    with pytest.raises(AuthConfigError, match="user:password"):
        Auth.from_settings(AuthSettings())
    monkeypatch.setenv("INSIGHTS_AUTH_DISABLED", "true")
    assert Auth.from_settings(AuthSettings()) is None
    monkeypatch.delenv("INSIGHTS_AUTH_DISABLED")
    monkeypatch.setenv("INSIGHTS_AUTH_USERS", "ana:pa:ss")  # a colon inside the password is kept
    assert Auth.from_settings(AuthSettings()).user(basic("ana", "pa:ss")) == "ana"
    assert "pa:ss" not in repr(AuthSettings())  # secrets never end up in a log line


def test_the_service_refuses_to_start_without_credentials_in_one_line(monkeypatch, capsys):
    from cxpulse_insights.__main__ import main

    for name in ("INSIGHTS_AUTH_USERS", "INSIGHTS_AUTH_TOKEN", "INSIGHTS_AUTH_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cxpulse insights: the dashboard needs credentials") and err.count("\n") == 1
    monkeypatch.setenv("INSIGHTS_AUTH_USERS", "ana:s3cret-pass,bob")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "INSIGHTS_AUTH_USERS: expected user:password" in err and "s3cret" not in err
