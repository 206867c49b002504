"""The dashboard and the HTTP API (aiohttp, in its own thread and event loop), with live updates as
server-sent events: GET /api/events sends a `snapshot` of every view, then one event per changed view."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from . import metrics as m
from .auth import USER, Auth, middleware
from .corrections import CorrectionError, CorrectionSink, correction_record
from .openapi import SPEC
from .outputs import figures_dict
from .state import InsightsState

STATIC = Path(__file__).resolve().parent / "static"
# A dashboard that does not read its event stream is dropped rather than waited on forever: at most this much unsent
# output per client (the transport's buffer), and a write that cannot complete within SSE_WRITE_TIMEOUT_S ends it.
SSE_MAX_BUFFER = 256 * 1024
SSE_WRITE_TIMEOUT_S = 10.0


def views(state: InsightsState) -> dict[str, Callable[[], Any]]:
    """View name (also the SSE event name) -> its current JSON body."""
    return {
        "contacts": state.active_contacts,
        "alerts": state.alerts,
        "escalations": state.escalations,
        "quality": state.quality,
        "agents": lambda: [figures_dict(f) for f in state.agents()],
        "journey": state.journey_heatmap,
        "accounts": state.at_risk,
        "trends": state.trends_changed,
    }


FILTERS = ("queue", "agent", "channel")  # every list view can be narrowed by these query parameters
FIELD = {"queue": "queue", "agent": "agent_id", "channel": "channel"}


def _filter(request: web.Request) -> dict[str, str]:
    return {k: v for k in FILTERS if (v := request.query.get(k))}


def _narrow(rows: Any, wanted: dict[str, str]) -> Any:
    if not wanted or not isinstance(rows, list):
        return rows
    return [r for r in rows if all(r.get(FIELD[k], r.get(k)) == v for k, v in wanted.items()
                                   if FIELD[k] in r or k in r)]


def user_of(request: web.Request) -> str:
    """The authenticated user, as the auth middleware left it on the request."""
    return request.get(USER) or "anonymous"


def make_app(state: InsightsState, coalesce_s: float = 0.2, corrections: CorrectionSink | None = None,
             auth: Auth | None = None) -> web.Application:
    """`auth` None: no authentication (unit tests, a trusted loopback); see auth.py."""
    app = web.Application(middlewares=[middleware(auth)])
    view = views(state)
    clients: set[Pending] = set()
    # Each changed view is serialized once per version, however many dashboards are open.
    versions: dict[str, int] = dict.fromkeys(view, 0)
    encoded: dict[str, tuple[int, bytes]] = {}

    def event_bytes(name: str) -> bytes:
        cached = encoded.get(name)
        if cached is None or cached[0] != versions[name]:
            version = versions[name]
            cached = encoded[name] = (version, f"event: {name}\ndata: {json.dumps(view[name]())}\n\n".encode())
        return cached[1]

    def changed(name: str) -> None:  # runs on the event loop
        versions[name] += 1
        for client in clients:
            client.add(name)

    async def on_startup(_: web.Application) -> None:
        loop = asyncio.get_running_loop()
        # State changes happen on the stream thread; hop onto the event loop before touching the queues.
        state.subscribe(lambda name: loop.call_soon_threadsafe(changed, name))

    def json_of(name: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response(_narrow(view[name](), _filter(request)))
        return handler

    async def contact(request: web.Request) -> web.Response:
        body = state.contact(request.match_info["contact_id"])
        if body is None:
            raise web.HTTPNotFound(text=json.dumps({"error": "unknown contact"}), content_type="application/json")
        return web.json_response(body)

    async def trends(request: web.Request) -> web.Response:
        try:
            body = state.trend(request.query.get("window", "hour"), **_filter(request))
        except ValueError as exc:
            raise web.HTTPBadRequest(text=json.dumps({"error": str(exc)}), content_type="application/json") from None
        return web.json_response(body)

    async def correct(request: web.Request) -> web.Response:
        def fail(message: str, status: int = 400) -> web.Response:
            return web.json_response({"error": message}, status=status)
        # Browsers send basic-auth credentials along with cross-site requests too: accept only JSON (a
        # cross-site JSON POST needs a CORS preflight, which this server never grants) from this origin.
        if request.content_type != "application/json":
            return fail("expected Content-Type: application/json", 415)
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            return fail("cross-origin request refused", 403)
        if corrections is None:
            return fail("corrections are not configured (no Kafka)", 503)
        try:
            body = await request.json()
            cid, number, label = str(body["contact_id"]), int(body["turn"]), str(body["label"])
        except (ValueError, KeyError, TypeError):
            return fail('expected JSON {"contact_id": str, "turn": int, "label": negative|neutral|positive}')
        found = state.turn(cid, number)
        if found is None:
            return fail(f"no turn {number} of contact {cid}", 404)
        try:
            record = correction_record(*found, label, user_of(request))
            await corrections.send(record)
        except CorrectionError as exc:
            return fail(str(exc), exc.status)
        except (RuntimeError, TimeoutError) as exc:
            return fail(str(exc), 503)
        state.record_correction(record)
        return web.json_response(record.to_dict(), status=201)

    async def quality(request: web.Request) -> web.Response:
        return web.json_response(state.quality(review_only=request.query.get("review") == "true"))

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        client = Pending()
        clients.add(client)
        transport = request.transport

        async def write(data: bytes) -> None:
            if transport is None or transport.get_write_buffer_size() > SSE_MAX_BUFFER:
                raise ConnectionResetError("slow SSE client")
            await asyncio.wait_for(response.write(data), SSE_WRITE_TIMEOUT_S)

        m.SSE_CLIENTS.labels(m.SERVICE).inc()
        try:
            await write(f"event: snapshot\ndata: {json.dumps({name: body() for name, body in view.items()})}\n\n"
                        .encode())
            while True:
                try:
                    await asyncio.wait_for(client.ready.wait(), timeout=15)
                except TimeoutError:
                    await write(b": keep-alive\n\n")  # proxies close silent connections
                    continue
                await asyncio.sleep(coalesce_s)  # a burst of changes goes out as one update per view
                names = client.take()
                for name in sorted(names):
                    await write(event_bytes(name))
        except (ConnectionResetError, TimeoutError):  # gone, or too slow to keep (see SSE_MAX_BUFFER)
            m.SSE_DROPPED.labels(m.SERVICE).inc()
        except asyncio.CancelledError:
            pass
        finally:
            clients.discard(client)
            m.SSE_CLIENTS.labels(m.SERVICE).dec()
        return response

    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def openapi(_: web.Request) -> web.Response:
        return web.json_response(SPEC)

    async def healthz(_: web.Request) -> web.Response:  # the only path open without credentials
        return web.json_response({"status": "ok"})

    app.on_startup.append(on_startup)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/events", events)
    app.router.add_get("/api/quality", quality)
    app.router.add_get("/api/trends", trends)
    app.router.add_post("/api/corrections", correct)
    for name, path in (("contacts", "/api/contacts/active"), ("alerts", "/api/alerts"),
                       ("escalations", "/api/escalations"), ("agents", "/api/agents"),
                       ("journey", "/api/journey"), ("accounts", "/api/accounts/at-risk")):
        app.router.add_get(path, json_of(name))
    app.router.add_get("/api/contacts/{contact_id}", contact)  # after /api/contacts/active
    return app


class Pending:
    """What one event stream still has to send: the names of the views that changed (a set, so however slow
    the client, it holds at most one entry per view, and it gets each changed view's latest state once)."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.ready = asyncio.Event()

    def add(self, name: str) -> None:
        self.names.add(name)
        self.ready.set()

    def take(self) -> set[str]:
        names, self.names = self.names, set()
        self.ready.clear()
        return names


class WebServer:
    """Runs the app in a daemon thread; `port` is the bound port (useful with port 0)."""

    def __init__(self, state: InsightsState, host: str, port: int, coalesce_s: float = 0.2,
                 corrections: CorrectionSink | None = None, auth: Auth | None = None) -> None:
        self.corrections = corrections
        self.app = make_app(state, coalesce_s, corrections, auth)
        self.host, self.port = host, port
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(self.app, shutdown_timeout=1)
        self._thread = threading.Thread(target=self._loop.run_forever, name="insights-web", daemon=True)

    def start(self) -> WebServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        return self

    async def _serve(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # the real port when 0 was asked for

    async def _shutdown(self) -> None:
        await self._runner.cleanup()
        # Open event streams wait on their queues forever: end them before the loop goes.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
        if self.corrections is not None:
            self.corrections.close()
