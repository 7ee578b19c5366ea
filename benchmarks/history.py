"""History: how fast and how small is the journal, next to plain JSON lines of the same events?

    .venv/bin/python benchmarks/history.py                    # 1M synthetic events, firehose
    .venv/bin/python benchmarks/history.py --events 300000 --no-firehose --no-postgres
    .venv/bin/python benchmarks/history.py --big              # + seek in 10M events and the
                                                              #   24 h failure query over 10M tasks
    CELERYTUI_TEST_PG=postgresql://... benchmarks/history.py  # another PostgreSQL

Sections, all in one run on the same machine:
- write: the synthetic stream (benchmarks/synthetic.py) with its task rows (built before the
  clock starts, as the monitor hands them over) into SQLite, into PostgreSQL (a schema of its
  own, dropped after) and, side by side, as plain JSON lines (one json.dumps and write per
  event, flushed per batch). Events/s, bytes per event on disk.
- replay: every event read back in time order (iter_events), vs json.loads of each line.
- firehose: 4 publisher processes send 300k events in task.multi batches, flat out, to an
  embedded Redis; EventStream -> ClusterState -> Recorder into SQLite, as `celerytui record`
  does. How many of the published events are in the journal, and the drops.
- --big: a 10M-event journal (seek: the first event of 20 random minutes), and 10M task rows
  ("failures of one task name in the last 24 h"); --big-postgres: the task rows on PostgreSQL
  too (written in time order, as a recorder does).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import generate_events
from celerytui.core.journal import TaskRow, open_store, task_row
from celerytui.core.state import ClusterState

PG_BASE = os.environ.get("CELERYTUI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def prepared(n: int, batch: int) -> list[tuple[list[dict], list[TaskRow]]]:
    """(events, rows of the tasks they changed) per batch, as Monitor.pump hands them over."""
    state = ClusterState(max_tasks=200_000)
    out = []
    for events in generate_events(n, batch=batch):
        changes = state.apply(events)
        out.append((events, [task_row(state.tasks[u]) for u in changes.tasks]))
    return out


def write_store(spec: str, batches: list) -> float:
    store = open_store(spec, cluster="bench", write=True)
    t0 = time.perf_counter()
    for events, rows in batches:
        store.append(events)
        store.upsert_tasks(rows)
        store.flush()
    elapsed = time.perf_counter() - t0
    store.close()
    return elapsed


def read_store(spec: str) -> tuple[int, float]:
    store = open_store(spec, cluster="bench", write=False)
    t0 = time.perf_counter()
    n = sum(1 for _ in store.iter_events(0))
    elapsed = time.perf_counter() - t0
    store.close()
    return n, elapsed


def json_lines(path: Path, batches: list) -> tuple[float, float]:
    dumps = json.dumps
    t0 = time.perf_counter()
    with open(path, "w") as out:
        for events, _ in batches:
            for event in events:
                out.write(dumps(event))
                out.write("\n")
            out.flush()
    written = time.perf_counter() - t0
    t0 = time.perf_counter()
    with open(path) as lines:
        n = sum(1 for line in lines if json.loads(line))
    return written, time.perf_counter() - t0 if n else 0.0


def sqlite_bytes(path: str) -> tuple[int, dict[str, int]]:
    """(file bytes after a checkpoint, bytes of the pages of each table with its indexes:
    chunks, task rows, their indexes, task blocks, task ids, the rest), from SQLite's dbstat."""
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    parts = dict.fromkeys(("chunks", "tasks", "task indexes", "task blocks", "task ids", "rest"), 0)
    tables = dict(conn.execute("SELECT name, tbl_name FROM sqlite_schema"))
    named = {"chunks": "chunks", "task_blocks": "task blocks", "task_ids": "task ids"}
    for name, size in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
        table = tables.get(name, name)
        if table == "tasks":
            parts["tasks" if name == "tasks" else "task indexes"] += size
        else:
            parts[named.get(table, "rest")] += size
    conn.close()
    return os.path.getsize(path), parts


def pg_bytes(store) -> dict[str, int]:
    """Bytes of each table of a PostgreSQL store with its indexes (pg_total_relation_size)."""
    from celerytui.core.journal.postgres_db import TABLES

    rows = store.db.execute(
        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname = ANY(?)",
        (list(TABLES),),
    )
    return {name: int(size) for name, size in rows if size}


def pg_schema() -> str | None:
    try:
        import psycopg

        name = f"celerytui_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_BASE, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return name
    except Exception as exc:
        print(f"postgresql: skipped ({type(exc).__name__}: {str(exc).splitlines()[0]})")
        return None


def drop_schema(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def section_write(args: argparse.Namespace, tmp: Path) -> None:
    print(f"preparing {args.events:,} synthetic events (batches of {args.batch}) ...")
    batches = prepared(args.events, args.batch)
    n = sum(len(e) for e, _ in batches)
    rows = sum(len(r) for _, r in batches)
    print(f"  {n:,} events, {rows:,} task-row updates")
    spec = str(tmp / "bench.sqlite3")
    elapsed = write_store(spec, batches)
    size, parts = sqlite_bytes(spec)
    read_n, read_s = read_store(spec)
    print(
        f"sqlite      write {n / elapsed:>10,.0f} ev/s   {size / n:6.1f} B/event on disk   "
        f"replay {read_n / read_s:>10,.0f} ev/s\n"
        f"            B/event: " + ", ".join(f"{k} {v / n:.1f}" for k, v in parts.items())
    )
    if not args.no_postgres:
        schema = pg_schema()
        if schema is not None:
            try:
                url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
                elapsed = write_store(url, batches)
                store = open_store(url, cluster="bench", write=False)
                pg_size = store.db.size_bytes()
                pg_parts = pg_bytes(store)
                store.close()
                read_n, read_s = read_store(url)
                print(
                    f"postgresql  write {n / elapsed:>10,.0f} ev/s   {pg_size / n:6.1f} "
                    f"B/event (tables + indexes)   replay {read_n / read_s:>10,.0f} ev/s\n"
                    f"            B/event: "
                    + ", ".join(f"{k} {v / n:.1f}" for k, v in sorted(pg_parts.items()))
                )
            finally:
                drop_schema(schema)
    path = tmp / "bench.jsonl"
    written, read_s = json_lines(path, batches)
    print(
        f"json lines  write {n / written:>10,.0f} ev/s   {path.stat().st_size / n:6.1f} "
        f"B/event (events only, no task rows)   read  {n / read_s:>10,.0f} ev/s"
    )


def section_firehose(args: argparse.Namespace, tmp: Path) -> None:
    import multiprocessing as mp

    from benchmarks.firehose import capture_envelope, publisher
    from celerytui.config import load_settings
    from celerytui.core.events import EventStream
    from celerytui.core.journal.recorder import Recorder
    from celerytui.tasks import make_celery_app
    from tests.support.services import RedisServer

    server = RedisServer().start()
    try:
        url = f"redis://127.0.0.1:{server.port}/0"
        app = make_celery_app(load_settings(broker_url=url, result_backend=url))
        channel, envelope = capture_envelope(app, server.port)
        per_pub = args.firehose_events // 4
        ctx = mp.get_context("fork")
        ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Event()
        procs = [
            ctx.Process(
                target=publisher,
                args=(server.port, channel, envelope, per_pub, 24, 100 + i, 0.0, ready, go, done),
            )
            for i in range(4)
        ]
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=300)
        published = per_pub * 4
        spec = str(tmp / "firehose.sqlite3")
        recorder = Recorder(open_store(spec, cluster="bench", write=True)).start()
        state = ClusterState(max_tasks=100_000)
        stream = EventStream(app, read_only=True)
        stream.start()
        deadline = time.monotonic() + 10
        while not stream.status.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        stream.drain()
        t0 = time.perf_counter()
        go.set()
        last_progress, last_seen = time.monotonic(), -1
        while time.monotonic() - t0 < 120:
            stream.wait(0.1)
            events = stream.drain(100_000)
            if events:
                recorder.note(events, state.apply(events), state)
            seen = stream.status.events_received
            if seen != last_seen:
                last_seen, last_progress = seen, time.monotonic()
            finished = all(not p.is_alive() for p in procs)
            if finished and seen >= published and not stream.pending:
                break
            if finished and time.monotonic() - last_progress > 3:
                break
        ingest_s = time.perf_counter() - t0
        stream.stop()
        recorder.stop(30)
        status = recorder.status
        written_s = time.perf_counter() - t0
        for p in procs:
            p.join(10)
        reader = open_store(spec, cluster="bench", write=False)
        in_store = sum(1 for _ in reader.iter_events(0))
        reader.close()
        # ignore the envelope capture's one event and wake-up replies: count published ones
        print(
            f"firehose    published {published:,} (4 publishers, task.multi of 24, flat out); "
            f"received {stream.status.events_received:,}, stream drops "
            f"{stream.status.events_dropped:,}; recorded {status.events_recorded:,} "
            f"({100 * min(in_store, published) / published:.1f}% in the journal), recorder "
            f"drops {status.events_dropped:,}; ingest {ingest_s:.1f} s, all written after "
            f"{written_s:.1f} s"
        )
        app.close()
    finally:
        server.cleanup()


def section_big(args: argparse.Namespace, tmp: Path) -> None:
    spec = str(tmp / "big.sqlite3")
    store = open_store(spec, cluster="bench", write=True)
    n = 0
    t0 = time.perf_counter()
    for events in generate_events(args.big_events, batch=4096, rate=2_000.0):
        store.append(events)
        store.flush()
        n += len(events)
    build = time.perf_counter() - t0
    first, last = store.time_range() or (0.0, 0.0)
    store.close()
    reader = open_store(spec, cluster="bench", write=False)
    rng = random.Random(7)
    seeks = []
    for _ in range(20):
        minute = first + 60 * rng.randrange(int((last - first) // 60))
        t = time.perf_counter()
        event = next(reader.iter_events(minute))
        seeks.append(time.perf_counter() - t)
        assert event["local_received"] >= minute
    reader.close()
    print(
        f"big journal {n:,} events over {(last - first) / 3600:.1f} h "
        f"(built in {build:.0f} s, {os.path.getsize(spec) / n:.1f} B/event): seek to a minute "
        f"max {max(seeks) * 1000:.1f} ms, median {statistics.median(seeks) * 1000:.1f} ms"
    )

    big_tasks(args, str(tmp / "tasks.sqlite3"), "sqlite")
    if args.big_postgres and not args.no_postgres:
        schema = pg_schema()
        if schema is not None:
            try:
                big_tasks(args, f"{PG_BASE}?options=-csearch_path%3D{schema}", "postgresql")
            finally:
                drop_schema(schema)


def big_task_rows(n: int, now: float, in_time_order: bool) -> Iterator[list[TaskRow]]:
    """n task rows over the last 48 h, 5% failures, 30 names, in batches of 50,000: in random
    order, or (PostgreSQL) in time order, as a recorder writes them (its writer reads the keys
    of the blocks its rows' times reach: recent_blocks.py)."""
    names = [f"proj.tasks.job_{k:02d}" for k in range(30)]
    rng = random.Random(3)
    ats = array("d", (now - rng.random() * 48 * 3600 for _ in range(n)))
    if in_time_order:
        ats = array("d", sorted(ats))
    for start in range(0, n, 50_000):
        rows = []
        for at in ats[start : start + 50_000]:
            failed = rng.random() < 0.05
            rows.append(
                TaskRow(
                    uuid.UUID(int=rng.getrandbits(128)).hex,
                    rng.choice(names),
                    "FAILURE" if failed else "SUCCESS",
                    f"celery@worker-{rng.randrange(8):02d}",
                    "celery",
                    at - 0.5,
                    at - 0.4,
                    at - 0.3,
                    at,
                    0.3,
                    0,
                    "ValueError('boom')" if failed else None,
                    None,
                    None,
                    None,
                    "(1, 2)",
                    "{}",
                    None if failed else "3",
                )
            )
        yield rows


def big_tasks(args: argparse.Namespace, spec: str, kind: str) -> None:
    """10M task rows; "failures of one task name in the last 24 h", 10 names."""
    store = open_store(spec, cluster="bench", write=True)
    now = time.time()
    names = [f"proj.tasks.job_{k:02d}" for k in range(30)]
    t0 = time.perf_counter()
    for rows in big_task_rows(args.big_tasks, now, kind == "postgresql"):
        store.upsert_tasks(rows)
        store.flush()
    build = time.perf_counter() - t0
    size = store.size_bytes()
    times = []
    found = 0
    for name in names[:10]:
        t = time.perf_counter()
        found = len(
            store.find_tasks(states=["FAILURE"], names=[name], since=now - 86400, limit=10**6)
        )
        times.append(time.perf_counter() - t)
    store.close()
    print(
        f"big tasks   {kind}: {args.big_tasks:,} task rows (built in {build:.0f} s, "
        f"{size / args.big_tasks:.1f} B/task): failures of one name in the last 24 h "
        f"({found:,} rows) max {max(times) * 1000:.0f} ms, median "
        f"{statistics.median(times) * 1000:.0f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000, help="events per flush")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-firehose", action="store_true")
    parser.add_argument("--firehose-events", type=int, default=300_000)
    parser.add_argument("--big", action="store_true", help="the 10M cases (minutes)")
    parser.add_argument("--big-events", type=int, default=10_000_000)
    parser.add_argument("--big-tasks", type=int, default=10_000_000)
    parser.add_argument(
        "--big-postgres", action="store_true", help="with --big: the task rows on PostgreSQL too"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="celerytui-history-") as tmp:
        section_write(args, Path(tmp))
        if not args.no_firehose:
            section_firehose(args, Path(tmp))
        if args.big:
            section_big(args, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
