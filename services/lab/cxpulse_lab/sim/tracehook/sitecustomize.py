"""Loaded by every service process that `survivors.py` starts (this folder is put first on PYTHONPATH, with
CXPULSE_TRACE_DIR set): SIGRTMIN restarts tracemalloc, so only allocations from then on are traced; SIGRTMIN+1
writes what is still alive of them, grouped by traceback, to $CXPULSE_TRACE_DIR/<service>-<pid>.txt."""

import collections
import os
import signal
import sys
import tracemalloc


def _restart(*_: object) -> None:
    tracemalloc.stop()
    tracemalloc.start(12)


def _dump(*_: object) -> None:
    import gc

    gc.collect()
    stats = tracemalloc.take_snapshot().statistics("traceback")
    service = sys.argv[2] if len(sys.argv) > 2 else os.path.basename(sys.argv[0])  # cxpulse run <service>
    path = os.path.join(os.environ["CXPULSE_TRACE_DIR"], f"{service}-{os.getpid()}.txt")
    with open(path, "w") as f:
        f.write(f"alive since the restart: {sum(s.count for s in stats)} blocks, "
                f"{sum(s.size for s in stats) / 2**20:.2f} MB\n")
        for s in stats[:40]:
            f.write(f"\n== {s.count} blocks {s.size / 1024:.1f} KiB\n" + "\n".join(s.traceback.format()[-12:]) + "\n")
        f.write("\n== who holds them: container type (the key, for a dict's values) -> objects since the restart\n")
        for (holder, key), n in _holders().most_common(40):
            f.write(f"{n:8d}  {holder} {key}\n")


def _holders() -> collections.Counter[tuple[str, str]]:
    """Objects allocated since the restart, counted by what refers to them: the survivors' owners."""
    import gc

    held: collections.Counter[tuple[str, str]] = collections.Counter()
    for owner in gc.get_objects():
        if isinstance(owner, dict):
            pairs = [(repr(k)[:30], v) for k, v in owner.items()] + [("<key>", k) for k in owner]
        else:
            pairs = [("", r) for r in gc.get_referents(owner)]
        for key, ref in pairs:
            if tracemalloc.get_object_traceback(ref) is not None:
                held[(type(owner).__name__, key if isinstance(owner, dict) and len(owner) < 40 else "")] += 1
    return held


if os.environ.get("CXPULSE_TRACE_DIR"):
    signal.signal(signal.SIGRTMIN, _restart)
    signal.signal(signal.SIGRTMIN + 1, _dump)
