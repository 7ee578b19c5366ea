"""Decode speed of the Redis fast lane: kombu envelopes -> checked, stamped event dicts.

    .venv/bin/python benchmarks/decode.py                 # 200k events in task.multi batches
    .venv/bin/python benchmarks/decode.py --events 1000000

Times EventDecoder.decode only (envelopes are built first), in CPU time (process_time), the
best of --repeat runs, so a busy machine disturbs it less. Also decodes one batch of malformed
messages to show they cost no more than good ones. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import generate_events
from celerytui.core.transports.redis_lane import EventDecoder


def envelope(events: list[dict]) -> bytes:
    body = base64.b64encode(json.dumps(events).encode()).decode()
    return json.dumps(
        {
            "body": body,
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {},
            "properties": {"body_encoding": "base64", "delivery_tag": "t"},
        }
    ).encode()


def best_rate(messages: list[bytes], events: int, repeat: int) -> tuple[float, int]:
    best, malformed = float("inf"), 0
    for _ in range(repeat):
        decoder = EventDecoder()
        t0 = time.process_time()
        for data in messages:
            decoder.decode(data, 1.0, 0.0)
        best = min(best, time.process_time() - t0)
        malformed = decoder.malformed
    return events / best if best else float("inf"), malformed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    batches = [
        [{k: v for k, v in e.items() if k != "local_received"} for e in batch]
        for batch in generate_events(args.events)
    ]
    good = [envelope(batch) for batch in batches]
    n = sum(len(b) for b in batches)
    rate, malformed = best_rate(good, n, args.repeat)
    print(
        f"good:      {n:,} events in {len(good):,} messages: {rate / 1e6:.2f} M events/s "
        f"(malformed {malformed})"
    )
    bad_events = [
        dict(e, uuid=[e.get("uuid")]) if "uuid" in e else dict(e, hostname=None)
        for batch in batches
        for e in batch
    ]
    bad = [envelope(bad_events[i : i + 100]) for i in range(0, len(bad_events), 100)]
    rate, malformed = best_rate(bad, len(bad_events), args.repeat)
    print(
        f"malformed: {len(bad_events):,} events in {len(bad):,} messages: "
        f"{rate / 1e6:.2f} M events/s (malformed {malformed:,})"
    )


if __name__ == "__main__":
    main()
