"""SIGTERM always ends a service process: a loop that stops in time exits 0 at once; one stuck in its graceful stop
(a flush or close waiting on a broker that does not answer) is ended once CXPULSE_SHUTDOWN_TIMEOUT_S has passed."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

SERVICE = textwrap.dedent("""
    import sys, threading, time
    from cxpulse_core.health import Health
    from cxpulse_core.http import serve
    from cxpulse_core.logs import configure_logging
    from cxpulse_core.runner import run_until_stopped

    class Loop:
        def __init__(self, stuck):
            self.stuck, self.stopping = stuck, threading.Event()
        def run(self):
            print("running", flush=True)
            self.stopping.wait()
            while self.stuck:  # a graceful stop that never ends
                time.sleep(0.05)
        def stop(self, *_):
            self.stopping.set()

    configure_logging("test", "INFO")
    sys.exit(run_until_stopped(Loop(sys.argv[1] == "stuck"), serve(Health(60), "127.0.0.1", 0), 1.0))
""")


@pytest.mark.parametrize("kind", ["prompt", "stuck"])
def test_sigterm_ends_the_process(kind: str) -> None:
    process = subprocess.Popen([sys.executable, "-c", SERVICE, kind], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "running"
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)  # a safety net for a hung test; the process's own bound is 1 s
        output = process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, output
    assert ("graceful stop took longer than 1 s" in output) == (kind == "stuck"), output
