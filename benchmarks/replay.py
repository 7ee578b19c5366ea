"""Replay speed: events/s from a SQLite journal through JournalSource into ClusterState, and
how long a seek takes — side by side, in the same run, with the plain alternative (the same
events as JSON lines, read and applied) and with ClusterState.apply alone (the ceiling).

    .venv/bin/python benchmarks/replay.py                    # 500k synthetic events
    .venv/bin/python benchmarks/replay.py --events 10000000   # the issue's journal (~25 min)
    .venv/bin/python benchmarks/replay.py --events 2000000 --task-events 1

The journal is written first (as the recorder writes it: batches, a checkpoint by the
recorder's policy, ``checkpoint_due``: at least ``--checkpoint-every`` seconds of the stream
and max(``--checkpoint-events``, ``--task-events`` x tasks) events apart), then each reader
runs on it:


- iter_events alone (read + decode: the journal's own figure);
- apply alone, over events already in memory;
- JSON lines: the same events from a .jsonl file, json.loads + apply (the plain alternative);
- one thread: iter_events + apply in batches from the start, the collector off (what a
  rebuild does);
- played: the ReplayMonitor pumping a JournalSource whose clock runs as fast as it can (the
  feeder thread reads, the pump applies, the collector held as the TUI's GcPolicy holds it:
  what `celerytui replay` does, minus drawing), in wall and in CPU time;
- seek: rebuild at random moments (nearest checkpoint, then the events after it);
- seek (TUI path): what a user waits for after `g`: the ReplayMonitor's clock seeks to the
  start of a random minute, the feeder rebuilds, the pump swaps the state in.

Times are wall-clock (two threads share one GIL; CPU time would count both). The machine is
shared: run it twice. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import generate_events
from celerytui.config import load_settings
from celerytui.core import state_snapshot
from celerytui.core.journal import open_store
from celerytui.core.journal.recorder import CHECKPOINT_EVENTS, TASK_EVENTS, checkpoint_due
from celerytui.core.journal_source import JournalSource, event_time
from celerytui.core.replay_clock import ReplayClock
from celerytui.core.replay_monitor import ReplayMonitor
from celerytui.core.state import ClusterState
from celerytui.gc_policy import GcPolicy

APPLY_BATCH = 5_000


def write_journal(path: str, jsonl: Path | None, args: argparse.Namespace) -> tuple[int, int]:
    """(events, checkpoint bytes) written; the JSON lines copy only when ``jsonl``."""
    store = open_store(path, cluster="bench", write=True)
    live = ClusterState(max_tasks=100_000)
    written = since = snapshot_bytes = 0
    last: float | None = None
    lines = jsonl.open("w") if jsonl is not None else None
    for batch in generate_events(args.events, rate=2_000.0):
        if lines is not None:
            lines.writelines(json.dumps(e) + "\n" for e in batch)
        store.append(batch)
        live.apply([dict(e) for e in batch])
        written += len(batch)
        since += len(batch)
        at = event_time(batch[-1])
        last = at if last is None else last
        if checkpoint_due(
            at - last,
            since,
            len(live.tasks),
            every=args.checkpoint_every,
            min_events=args.checkpoint_events,
            per_task=args.task_events,
        ):
            snapshot = state_snapshot.dump(live)
            snapshot_bytes += len(snapshot)
            store.write_checkpoint(at, snapshot)
            last, since = at, 0
            store.flush()
    if lines is not None:
        lines.close()
    store.flush()
    store.close()
    return written, snapshot_bytes


def seek_tui_path(reader: Any, t0: float, t1: float, seeks: int) -> list[float]:
    """Seconds from a seek to the start of a random minute to the rebuilt state swapped in,
    as the TUI does it: the feeder thread rebuilds while the pump loop waits on the source."""
    clock = ReplayClock(t0, t1, playing=False)
    source = JournalSource(reader, clock, max_tasks=100_000)
    monitor = ReplayMonitor(load_settings(env={}), source, clock, "bench")
    monitor.start()
    monitor.wait_restored(60.0)
    rng = random.Random(11)
    minutes = max(1, int((t1 - t0) // 60))
    times = []
    for _ in range(seeks):
        t = time.perf_counter()
        clock.seek(t0 + 60 * rng.randrange(minutes))
        while clock.seeking:  # a restore, or (a short step ahead) fed through
            source.wait(0.01)
            with monitor.lock:
                monitor.pump()
        times.append(time.perf_counter() - t)
    monitor.stop()
    return times


def figures(times: list[float]) -> str:
    times = sorted(times)
    return f"median {times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} events/s  ({seconds:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--checkpoint-every", type=float, default=60.0)
    parser.add_argument("--checkpoint-events", type=int, default=CHECKPOINT_EVENTS)
    parser.add_argument("--task-events", type=float, default=TASK_EVENTS)
    parser.add_argument("--seeks", type=int, default=10)
    parser.add_argument("--seeks-only", action="store_true", help="skip the throughput lines")
    parser.add_argument("--dir", help="keep the journal here (reused when it is there)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.dir or tmp)
        where.mkdir(parents=True, exist_ok=True)
        path, jsonl = str(where / "bench.sqlite3"), where / "bench.jsonl"
        if not Path(path).exists():
            t = time.perf_counter()
            n, snapshots = write_journal(path, None if args.seeks_only else jsonl, args)
            print(f"journal: {n:,} events written in {time.perf_counter() - t:.1f} s")
            print(f"  checkpoints: {snapshots / 1e6:.1f} MB, {snapshots / n:.1f} B/event")
            (where / "events").write_text(str(n))
        reader = open_store(path, cluster="bench", write=False)
        t0, t1 = reader.time_range() or (0.0, 0.0)
        n = int((where / "events").read_text())
        print(f"  spans {t1 - t0:,.0f} s of cluster; {Path(path).stat().st_size / n:.1f} B/event")
        if args.seeks_only:
            seeks(reader, t0, t1, args)
            return

        t = time.perf_counter()
        events = list(reader.iter_events(t0))
        read_s = time.perf_counter() - t
        print(f"iter_events alone      {rate(len(events), read_s)}")

        state = None  # each reader starts on an empty heap (a full GC pass scans it all)
        gc.collect()
        state = ClusterState(max_tasks=100_000)
        t = time.perf_counter()
        for i in range(0, len(events), APPLY_BATCH):
            state.apply(events[i : i + APPLY_BATCH])
        print(f"apply alone (ceiling)  {rate(len(events), time.perf_counter() - t)}")
        del events

        if jsonl.exists():  # not kept by --seeks-only
            state = None  # each reader starts on an empty heap (a full GC pass scans it all)
            gc.collect()
            state = ClusterState(max_tasks=100_000)
            t = time.perf_counter()
            parsed: list[dict] = []
            with jsonl.open() as lines:
                for line in lines:
                    parsed.append(json.loads(line))
                    if len(parsed) >= APPLY_BATCH:
                        state.apply(parsed)
                        parsed = []
            state.apply(parsed)
            print(f"JSON lines + apply     {rate(n, time.perf_counter() - t)}  (plain alternative)")

        state = None  # each reader starts on an empty heap (a full GC pass scans it all)
        gc.collect()
        state = ClusterState(max_tasks=100_000)
        gc.disable()  # as JournalSource._rebuild does
        t = time.perf_counter()
        batch: list[dict] = []
        for event in reader.iter_events(t0):
            batch.append(event)
            if len(batch) >= APPLY_BATCH:
                state.apply(batch)
                batch = []
        state.apply(batch)
        one_s = time.perf_counter() - t
        gc.enable()
        print(f"one thread: read+apply {rate(n, one_s)}  (what a rebuild does)")

        state = None  # each reader starts on an empty heap (a full GC pass scans it all)
        gc.collect()
        clock = ReplayClock(t0, t1, playing=False)
        source = JournalSource(reader, clock, max_tasks=100_000)
        monitor = ReplayMonitor(load_settings(env={}), source, clock, "bench")
        monitor.start()
        monitor.wait_restored()  # the (empty) state at the start
        clock.set_speed(1e9)  # then play: every event is due at once, fed as fast as it goes
        policy = GcPolicy()  # the collector as the TUI's pump loop runs it (app._pump_loop)
        t, cpu = time.perf_counter(), time.process_time()
        clock.play()
        while source.cursor < t1 or source.pending:
            source.wait(0.05)
            policy.step()
            with monitor.lock:
                monitor.pump()
        played_s, played_cpu = time.perf_counter() - t, time.process_time() - cpu
        policy.release()
        monitor.stop()
        applied = monitor.state.events_applied
        print(f"played (feeder + pump) {rate(applied, played_s)}")
        print(f"  in CPU time (both threads): {applied / played_cpu:,.0f} events/s")

        seeks(reader, t0, t1, args)


def seeks(reader: Any, t0: float, t1: float, args: argparse.Namespace) -> None:
    rng = random.Random(7)
    clock = ReplayClock(t0, t1, playing=False)
    source = JournalSource(reader, clock, max_tasks=100_000)
    times = []
    for _ in range(args.seeks):
        at = rng.uniform(t0, t1)
        t = time.perf_counter()
        source.rebuild(at)
        times.append(time.perf_counter() - t)
    print(f"seek ({args.seeks} random moments, rebuild alone): {figures(times)}")
    gc.collect()
    tui = seek_tui_path(reader, t0, t1, args.seeks)
    print(f"seek (TUI path): {figures(tui)}  ({args.seeks} random minutes)")
    reader.close()


if __name__ == "__main__":
    main()
