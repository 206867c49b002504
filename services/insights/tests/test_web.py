"""The HTTP API, the OpenAPI document, the static dashboard and SSE, on a real socket (loopback, no broker)."""

import json
import urllib.request

from insights_builders import summary, update


def get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.headers["Content-Type"], response.read()


def test_every_documented_endpoint_answers(served):
    state, base = served
    state.on_update(update("c-1", 1, -0.5))
    state.on_summary(summary("c-2"))
    _, body = get(base + "/openapi.json")
    spec = json.loads(body)
    assert spec["openapi"].startswith("3.")
    json_paths = [p for p, ops in spec["paths"].items() if "get" in ops and "{" not in p
                  and ops["get"]["responses"]["200"]["content"].get("application/json", {}).get("schema", {})
                  .get("type") == "array"]
    assert {"/api/contacts/active", "/api/quality", "/api/agents", "/api/journey", "/api/escalations",
            "/api/accounts/at-risk"} <= set(json_paths)
    for path in json_paths:
        kind, body = get(base + path)
        assert kind.startswith("application/json") and isinstance(json.loads(body), list), path
    assert json.loads(get(base + "/api/contacts/active")[1])[0]["contact_id"] == "c-1"
    assert json.loads(get(base + "/api/agents")[1])[0]["agent_id"] == "agent-1"
    assert json.loads(get(base + "/api/quality?review=true")[1]) == []


def test_dashboard_is_self_contained(served):
    _, base = served
    _, html = get(base + "/")
    for asset in (b"/static/app.js", b"/static/style.css"):
        assert asset in html
        assert get(base + asset.decode())[1]
    everything = html + get(base + "/static/app.js")[1] + get(base + "/static/style.css")[1]
    assert b"http://" not in everything and b"https://" not in everything  # no CDN, no outside resource


def test_sse_sends_a_snapshot_then_changed_views(served):
    state, base = served
    with urllib.request.urlopen(base + "/api/events", timeout=5) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.readline() == b"event: snapshot\n"
        snapshot = json.loads(stream.readline().removeprefix(b"data: "))
        assert set(snapshot) == {"contacts", "alerts", "escalations", "quality", "agents", "journey", "accounts",
                                 "trends"}
        stream.readline()
        state.on_update(update("c-7", 3, -0.4))
        assert stream.readline() == b"event: contacts\n"
        assert json.loads(stream.readline().removeprefix(b"data: "))[0]["contact_id"] == "c-7"


def test_a_slow_event_stream_holds_at_most_one_pending_entry_per_view():
    from cxpulse_insights.web import Pending

    async def run() -> set[str]:
        client = Pending()
        for _ in range(10_000):  # a client that reads nothing while the views change all the time
            for name in ("contacts", "trends", "quality"):
                client.add(name)
        assert client.ready.is_set() and len(client.names) == 3
        taken = client.take()
        assert not client.ready.is_set() and client.names == set()
        return taken

    import asyncio

    assert asyncio.run(run()) == {"contacts", "trends", "quality"}
