"""Throughput of Ingestor.process alone (no Kafka): `python -m cxpulse_lab.ingest.bench_domain [n] [--profile]`.

Realistic mix as JSON bytes of the cxpulse contract: contacts of 1 contact_started, 10 utterances and 1
contact_ended; utterance text 60-200 chars, 70% without digits, 20% with dates/amounts/order numbers,
10% with PII; every 20th input a Contact Lens SEGMENTS event (2 partials, 2 transcripts, categories)."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import statistics
import sys
import time

from cxpulse_ingest.ingestor import Ingestor

T0 = 1_714_559_400_000
_PLAIN = ["I have been waiting on hold for a really long time and I am not happy about the service today",
          "Thank you for your patience, let me pull up your account and see what happened with the bill",
          "Can you explain why my internet keeps dropping every evening, it is really frustrating me",
          "Sure, I understand. I can offer you a credit on your next statement for the inconvenience"]
_NUMBERS = ["My last bill on 2024-05-01 was $1,234.56 which is way more than the usual amount at 10:30",
            "The order #A12345 arrived on 05/01/2024 but item 123456 was missing from the box entirely"]
_PII = ["My card is 4111 1111 1111 1111 and you can call me back on (555) 123-4567 any time today",
        "Sure, my email is jane.doe@example.com and my social is 123-45-6789 if you need it"]


def _texts(i: int) -> str:
    bucket = i % 10
    if bucket < 7:
        return _PLAIN[i % len(_PLAIN)]
    return _NUMBERS[i % 2] if bucket < 9 else _PII[i % 2]


def _contact_lens(contact: str, i: int) -> tuple[bytes, str]:
    doc = {"Version": "1.0.0", "Channel": "VOICE", "AccountId": "123456789012", "InstanceId": "inst",
           "ContactId": contact, "LanguageCode": "en-US", "EventType": "SEGMENTS", "Segments": [
               {"Utterance": {"Id": f"u{i}a", "TranscriptId": f"t{i}", "ParticipantId": "AGENT",
                              "ParticipantRole": "AGENT", "PartialContent": _PLAIN[0][:40],
                              "BeginOffsetMillis": 1000, "EndOffsetMillis": 2000}},
               {"Utterance": {"Id": f"u{i}b", "TranscriptId": f"t{i}", "ParticipantId": "AGENT",
                              "ParticipantRole": "AGENT", "PartialContent": _PLAIN[0][40:],
                              "BeginOffsetMillis": 2000, "EndOffsetMillis": 3000}},
               {"Transcript": {"Id": f"t{i}", "ParticipantId": "AGENT", "ParticipantRole": "AGENT",
                               "Content": _PLAIN[0], "BeginOffsetMillis": 1000, "EndOffsetMillis": 3000,
                               "Sentiment": "NEUTRAL"}},
               {"Transcript": {"Id": f"t{i}c", "ParticipantId": "CUSTOMER", "ParticipantRole": "CUSTOMER",
                               "Content": _texts(i), "BeginOffsetMillis": 3000, "EndOffsetMillis": 6000,
                               "Sentiment": "NEGATIVE"}},
               {"Categories": {"MatchedCategories": ["Billing"], "MatchedDetails": {}}}]}
    return json.dumps(doc).encode(), "contact-lens"


def make_inputs(n: int) -> list[tuple[bytes, str]]:
    inputs: list[tuple[bytes, str]] = []
    contact = 0
    while len(inputs) < n:
        cid = f"contact-{contact:08d}"
        base = {"contact_id": cid}
        inputs.append((json.dumps(base | {"event_id": f"{cid}-s", "type": "contact_started", "sequence": 0,
                                          "timestamp": str(T0), "account_id": "acct-1", "agent_id": "agent-7",
                                          "queue": "billing", "channel": "voice"}).encode(), "cxpulse"))
        for turn in range(1, 11):
            i = contact * 10 + turn
            if i % 20 == 0:
                inputs.append(_contact_lens(f"cl-{cid}", i))
                continue
            inputs.append((json.dumps(base | {
                "event_id": f"{cid}-u{turn}", "type": "utterance", "sequence": turn,
                "timestamp": f"2024-05-01T10:30:{turn:02d}.250Z", "speaker": "customer" if turn % 2 else "agent",
                "text": _texts(i), "begin_offset_ms": turn * 3000, "end_offset_ms": turn * 3000 + 2500}).encode(),
                "cxpulse"))
        inputs.append((json.dumps(base | {"event_id": f"{cid}-e", "type": "contact_ended", "sequence": 11,
                                          "timestamp": str(T0 + 60_000), "status": "completed"}).encode(), "cxpulse"))
        contact += 1
    return inputs[:n]


def _once(inputs: list[tuple[bytes, str]]) -> tuple[float, float, int]:
    ingestor = Ingestor()
    process = ingestor.process
    outputs = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for k, (raw, source) in enumerate(inputs):
        result = process(raw, source, T0 + k, T0 + k + 5)
        if type(result) is list:
            outputs += len(result)
    return time.perf_counter() - wall, time.process_time() - cpu, outputs


def run(n: int = 50_000) -> dict[str, float]:
    """Input events/s of Ingestor.process over n inputs, median of 3 fresh runs. events_per_s is by wall
    clock; cpu_events_per_s by this process's CPU time, which a busy shared machine distorts less."""
    inputs = make_inputs(n)
    runs = [_once(inputs) for _ in range(3)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    return {"inputs": n, "outputs": runs[0][2], "seconds": round(wall, 3), "events_per_s": round(n / wall),
            "cpu_events_per_s": round(n / cpu), "us_per_event": round(wall / n * 1e6, 2)}


def profile(n: int = 50_000, top: int = 10) -> str:
    inputs = make_inputs(n)
    profiler = cProfile.Profile()
    profiler.runcall(_once, inputs)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 50_000
    print(run(count))
    if "--profile" in sys.argv:
        print(profile(count))
