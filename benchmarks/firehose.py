"""Firehose: can EventStream (+ ClusterState) keep up with Redis when workers flood it?

    .venv/bin/python benchmarks/firehose.py                  # both lanes, 300k events, 4 publishers
    .venv/bin/python benchmarks/firehose.py --lane fast --events 600000 --publishers 4
    .venv/bin/python benchmarks/firehose.py --lane kombu --no-state
    .venv/bin/python benchmarks/firehose.py --events 600000 --rate 150000   # paced publishers
    CELERYTUI_EVENTS_RELAY=0 .venv/bin/python benchmarks/firehose.py --lane fast   # no relay

Several publisher processes send ``task.multi`` batches to an embedded redis-server (its own, on
a free port, default pub/sub output buffer limits: 32 MB hard, 8 MB for 60 s) as fast as they can,
while EventStream ingests and a consumer loop drains into ClusterState, as the Monitor does.
The messages are what a celery worker publishes: the envelope is captured from celery's own
EventDispatcher once, then each publisher fills it with its own events (benchmarks/synthetic.py)
and a fresh delivery tag, and PUBLISHes it on the same channel. Payloads are built before the
clock starts. Bounded by --events and --seconds. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing as mp
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import generate_events
from tests.support.services import RedisServer


def capture_envelope(app, port: int) -> tuple[str, dict]:
    """Publish one task.multi through celery's EventDispatcher; return (channel, envelope)."""
    import redis

    sub = redis.Redis(port=port, protocol=2).pubsub()
    sub.psubscribe("*")
    sub.get_message(timeout=1)
    with app.connection_for_write() as conn:
        dispatcher = app.events.Dispatcher(conn, hostname="capture@firehose")
        sample = [{"type": "task-started", "uuid": "x", "hostname": "capture@firehose"}]
        dispatcher._publish(sample, dispatcher.producer, "task.multi")
        dispatcher.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        msg = sub.get_message(timeout=0.5)
        if msg and msg["type"] == "pmessage" and b"celeryev" in msg["channel"]:
            sub.close()
            return msg["channel"].decode(), json.loads(msg["data"])
    raise SystemExit("could not capture an event envelope from celery's dispatcher")


def build_payloads(envelope: dict, events: int, batch: int, seed: int) -> list[bytes]:
    """Envelopes as kombu would write them, each with `batch` events of a synthetic stream."""
    payloads = []
    for chunk in generate_events(events, workers=8, seed=seed, batch=batch):
        for ev in chunk:
            ev.pop("local_received", None)  # the receiver adds it, not the worker
        message = dict(envelope)
        props = dict(envelope["properties"])
        props["delivery_tag"] = str(uuid.uuid4())
        message["properties"] = props
        message["body"] = base64.b64encode(json.dumps(chunk).encode()).decode()
        payloads.append(json.dumps(message).encode())
    return payloads


def publisher(
    port: int,
    channel: str,
    envelope: dict,
    events: int,
    batch: int,
    seed: int,
    rate: float,
    ready,
    go,
    done,
) -> None:
    """One process: build its payloads, wait for the start signal, PUBLISH them all
    (at `rate` events/s if given, else as fast as it can)."""
    import redis

    payloads = build_payloads(envelope, events, batch, seed)
    client = redis.Redis(port=port, protocol=2)
    ready.put(len(payloads))
    go.wait()
    publish = client.publish
    start = time.perf_counter()
    per_message = batch / rate if rate else 0.0
    for i, payload in enumerate(payloads):  # one PUBLISH per message, as kombu's fanout does
        if per_message:
            ahead = start + i * per_message - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
        publish(channel, payload)
    done.put(time.perf_counter())


def run_lane(lane: str, args: argparse.Namespace, server: RedisServer, db: int) -> dict:
    from celerytui.config import load_settings
    from celerytui.core.events import EventStream
    from celerytui.tasks import make_celery_app

    url = f"redis://127.0.0.1:{server.port}/{db}"
    app = make_celery_app(load_settings(broker_url=url, result_backend=url))
    channel, envelope = capture_envelope(app, server.port)
    per_pub = args.events // args.publishers
    ctx = mp.get_context("fork")
    ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(
            target=publisher,
            args=(
                server.port,
                channel,
                envelope,
                per_pub,
                args.batch,
                100 + i,
                args.rate / args.publishers,
                ready,
                go,
                done,
            ),
        )
        for i in range(args.publishers)
    ]
    for p in procs:
        p.start()
    messages = sum(ready.get(timeout=300) for _ in procs)
    published = per_pub * args.publishers

    state = None
    if not args.no_state:
        from celerytui.core.state import ClusterState

        state = ClusterState(max_tasks=100_000)
    stream = EventStream(
        app, read_only=True, fast_redis=(lane == "fast"), max_pending=args.max_pending
    )
    stream.start()
    deadline = time.monotonic() + 10
    while not stream.status.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    stream.drain()  # worker wake-up replies, if any

    applied = 0
    t0 = time.perf_counter()
    go.set()
    stop_at = time.monotonic() + args.seconds
    last_progress, last_seen = time.monotonic(), -1
    while time.monotonic() < stop_at:
        stream.wait(0.1)
        batch = stream.drain(args.drain)
        if batch:
            applied += len(batch)
            if state is not None:
                state.apply(batch)
        st = stream.status
        seen = st.events_received
        if seen != last_seen:
            last_seen, last_progress = seen, time.monotonic()
        finished = all(not p.is_alive() for p in procs)
        if finished and seen >= published and not stream.pending:
            break
        if finished and time.monotonic() - last_progress > 3:
            break  # nothing more is coming
    t_end = time.perf_counter()
    for p in procs:
        p.join(10)
    pub_end = max(done.get(timeout=5) for _ in procs) if procs else t_end
    status = stream.status
    stream.stop()
    app.close()
    return {
        "lane": lane,
        "published": published,
        "messages": messages,
        "received": status.events_received,
        "dropped": status.events_dropped,
        "applied": applied,
        "lost": published - status.events_received,
        "disconnects": status.reconnects + (0 if status.connected or not status.last_error else 1),
        "last_error": status.last_error,
        "malformed": stream.malformed,
        "publish_s": pub_end - t0,
        "ingest_s": t_end - t0,
        "kept": len(state.tasks) if state is not None else None,
    }


def report(r: dict) -> None:
    rate_in = r["received"] / r["ingest_s"] if r["ingest_s"] else 0
    rate_pub = r["published"] / r["publish_s"] if r["publish_s"] else 0
    print(
        f"[{r['lane']:5}] published {r['published']:,} events in {r['messages']:,} messages "
        f"at {rate_pub:,.0f} ev/s; received {r['received']:,} ({r['lost']:,} lost), "
        f"dropped {r['dropped']:,}, applied {r['applied']:,}; disconnects "
        f"{r['disconnects']}; ingest {rate_in:,.0f} ev/s over {r['ingest_s']:.2f} s"
    )
    if r["last_error"]:
        print(f"        last error: {r['last_error']}")
    if r["malformed"]:
        print(f"        malformed messages: {r['malformed']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lane", choices=("fast", "kombu", "both"), default="both")
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument(
        "--batch",
        type=int,
        default=24,
        help="events per task.multi message (a worker's buffer_limit is 24)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="events/s offered by all publishers together (0: flat out)",
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="cap on one lane's run")
    parser.add_argument("--max-pending", type=int, default=500_000)
    parser.add_argument("--drain", type=int, default=100_000, help="max events per apply")
    parser.add_argument("--no-state", action="store_true", help="drain only, no ClusterState")
    args = parser.parse_args(argv)

    server = RedisServer().start()
    try:
        pace = f"{args.rate:,.0f} events/s" if args.rate else "flat out"
        print(
            f"firehose: {args.events:,} events, {args.publishers} publishers ({pace}), "
            f"task.multi of "
            f"{args.batch}, consumer: {'drain only' if args.no_state else 'ClusterState'}; "
            f"redis-server on port {server.port}"
        )
        lanes = ("fast", "kombu") if args.lane == "both" else (args.lane,)
        for db, lane in enumerate(lanes):
            report(run_lane(lane, args, server, db))
    finally:
        server.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
