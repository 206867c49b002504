"""SIGTERM always ends a faust service process (churn, routing run on core's run_worker): a worker that stops in
time exits 0; one stuck in its graceful stop (the agents, the producer's flush, the commit or the group leave waiting
on a broker that does not answer) is ended once its shutdown bound (CXPULSE_SHUTDOWN_TIMEOUT_S) has passed."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from cxpulse_core.testing.kafka import unique_name

pytestmark = pytest.mark.kafka

WORKER = textwrap.dedent("""
    import asyncio, sys
    import faust, mode
    from cxpulse_core.faust_ops import run_worker
    from cxpulse_core.health import Health
    from cxpulse_core.logs import configure_logging

    bootstrap, app_id, kind = sys.argv[1:4]
    configure_logging("test", "INFO")
    app = faust.App(app_id, broker=f"kafka://{bootstrap}", web_enabled=False, store="memory://",
                    topic_replication_factor=1)

    @app.service
    class Stop(mode.Service):
        async def on_started(self):
            print("running", flush=True)

        async def on_stop(self):
            if kind == "stuck":  # a graceful stop that never ends
                await asyncio.sleep(3600)

    sys.exit(run_worker(app, Health(60), "INFO", shutdown_timeout_s=2.0))
""")


@pytest.mark.parametrize("kind", ["prompt", "stuck"])
def test_sigterm_ends_the_faust_worker(kind: str, kafka_bootstrap: str) -> None:
    process = subprocess.Popen([sys.executable, "-c", WORKER, kafka_bootstrap, unique_name("stop"), kind],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:  # faust may log before the service starts
            lines.append(line)
            if line.strip() == "running":
                break
        else:
            pytest.fail("the worker never started:\n" + "".join(lines))
        process.send_signal(signal.SIGTERM)
        code = process.wait(90)  # a safety net for a hung test; the process's own bound is 2 s
        output = "".join(lines) + process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, output
    assert ("graceful stop took longer than 2 s" in output) == (kind == "stuck"), output
