"""The bench's /proc readings: the broker is found as the process listening on the bootstrap port."""

from __future__ import annotations

import os
import socket

from cxpulse_lab.sim.bench_e2e import _cpu_s, listening_pid


def test_the_listening_process_is_found_by_its_port():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert listening_pid(server.getsockname()[1]) == os.getpid()
    with socket.socket() as probe:  # bound, not listening: nobody serves this port
        probe.bind(("127.0.0.1", 0))
        assert listening_pid(probe.getsockname()[1]) is None


def test_cpu_seconds_of_a_process_grow_with_work():
    before = _cpu_s(os.getpid())
    sum(i * i for i in range(3_000_000))
    assert _cpu_s(os.getpid()) > before
