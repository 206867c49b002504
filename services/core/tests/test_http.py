"""The ops endpoint stays up and bounded under a flood of idle connections: no thread per connection, probes answer."""

from __future__ import annotations

import socket
import threading
import urllib.request

from cxpulse_core.health import Health
from cxpulse_core.http import WORKERS, serve


def test_idle_connections_get_no_thread_each_and_probes_still_answer() -> None:
    health = Health(60)
    server = serve(health, "127.0.0.1", 0)
    assert server.server_address[0] == "127.0.0.1"
    before = threading.active_count()
    idle = []
    try:
        for _ in range(200):  # connect and send nothing, like a slowloris
            idle.append(socket.create_connection(("127.0.0.1", server.server_port), timeout=5))
        assert threading.active_count() <= before  # the watcher and the workers started with the server
        for _ in range(5):  # idle connections hold no worker: a probe that sends its request is answered
            with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/healthz", timeout=10) as reply:
                assert reply.status == 200
        assert threading.active_count() <= before
    finally:
        for conn in idle:
            conn.close()
        server.shutdown()
        server.server_close()
    assert WORKERS >= 1
