"""The dashboard and the HTTP API (aiohttp, in its own thread and event loop), with live updates as
server-sent events: GET /api/events sends a `snapshot` of every view, then one event per changed view."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from . import metrics as m
from .openapi import SPEC
from .records import figures_dict
from .state import InsightsState

STATIC = Path(__file__).resolve().parent / "static"


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
    }


def make_app(state: InsightsState, coalesce_s: float = 0.2) -> web.Application:
    app = web.Application()
    view = views(state)
    clients: set[asyncio.Queue[str]] = set()

    def changed(name: str) -> None:  # runs on the event loop
        for queue in clients:
            queue.put_nowait(name)

    async def on_startup(_: web.Application) -> None:
        loop = asyncio.get_running_loop()
        # State changes happen on the stream thread; hop onto the event loop before touching the queues.
        state.subscribe(lambda name: loop.call_soon_threadsafe(changed, name))

    def json_of(name: str) -> Callable[[web.Request], Any]:
        async def handler(_: web.Request) -> web.Response:
            return web.json_response(view[name]())
        return handler

    async def quality(request: web.Request) -> web.Response:
        return web.json_response(state.quality(review_only=request.query.get("review") == "true"))

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        queue: asyncio.Queue[str] = asyncio.Queue()
        clients.add(queue)
        m.SSE_CLIENTS.labels(m.SERVICE).inc()
        try:
            await _send(response, "snapshot", {name: body() for name, body in view.items()})
            while True:
                try:
                    names = {await asyncio.wait_for(queue.get(), timeout=15)}
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")  # proxies close silent connections
                    continue
                await asyncio.sleep(coalesce_s)  # a burst of changes goes out as one update per view
                while not queue.empty():
                    names.add(queue.get_nowait())
                for name in sorted(names):
                    await _send(response, name, view[name]())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            clients.discard(queue)
            m.SSE_CLIENTS.labels(m.SERVICE).dec()
        return response

    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def openapi(_: web.Request) -> web.Response:
        return web.json_response(SPEC)

    app.on_startup.append(on_startup)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/api/events", events)
    app.router.add_get("/api/quality", quality)
    for name, path in (("contacts", "/api/contacts/active"), ("alerts", "/api/alerts"),
                       ("escalations", "/api/escalations"), ("agents", "/api/agents"),
                       ("journey", "/api/journey"), ("accounts", "/api/accounts/at-risk")):
        app.router.add_get(path, json_of(name))
    return app


async def _send(response: web.StreamResponse, event: str, data: Any) -> None:
    await response.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())


class WebServer:
    """Runs the app in a daemon thread; `port` is the bound port (useful with port 0)."""

    def __init__(self, state: InsightsState, host: str, port: int, coalesce_s: float = 0.2) -> None:
        self.app = make_app(state, coalesce_s)
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
