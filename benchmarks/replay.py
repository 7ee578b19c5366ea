"""Replay speed: events/s from a SQLite journal through JournalSource into ClusterState, and
how long a seek takes — side by side, in the same run, with the plain alternative (the same
events as JSON lines, read and applied) and with ClusterState.apply alone (the ceiling).

    .venv/bin/python benchmarks/replay.py                    # 500k synthetic events
    .venv/bin/python benchmarks/replay.py --events 2000000 --checkpoint-every 60

The journal is written first (as the recorder writes it: batches, a checkpoint every
``--checkpoint-every`` seconds of the stream), then each reader runs on it:

- iter_events alone (read + decode: the journal's own figure);
- apply alone, over events already in memory;
- JSON lines: the same events from a .jsonl file, json.loads + apply (the plain alternative);
- one thread: iter_events + apply in batches from the start (what a rebuild does);
- played: the ReplayMonitor pumping a JournalSource whose clock runs as fast as it can (the
  feeder thread reads, the pump applies: what `celerytui replay` does, minus drawing);
- seek: rebuild at random moments (nearest checkpoint, then the events after it).

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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import generate_events
from celerytui.config import load_settings
from celerytui.core import state_snapshot
from celerytui.core.journal import open_store
from celerytui.core.journal_source import JournalSource, event_time
from celerytui.core.replay_clock import ReplayClock
from celerytui.core.replay_monitor import ReplayMonitor
from celerytui.core.state import ClusterState

APPLY_BATCH = 5_000


def write_journal(path: str, jsonl: Path, events: int, checkpoint_every: float) -> int:
    store = open_store(path, cluster="bench", write=True)
    live = ClusterState(max_tasks=100_000)
    written = 0
    next_checkpoint: float | None = None
    with jsonl.open("w") as lines:
        for batch in generate_events(events, rate=2_000.0):
            lines.writelines(json.dumps(e) + "\n" for e in batch)
            store.append(batch)
            live.apply([dict(e) for e in batch])
            written += len(batch)
            at = event_time(batch[-1])
            if next_checkpoint is None:
                next_checkpoint = at + checkpoint_every
            if at >= next_checkpoint:
                store.write_checkpoint(at, state_snapshot.dump(live))
                next_checkpoint = at + checkpoint_every
                store.flush()
    store.flush()
    store.close()
    return written


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} events/s  ({seconds:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--checkpoint-every", type=float, default=60.0)
    parser.add_argument("--seeks", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path, jsonl = str(Path(tmp) / "bench.sqlite3"), Path(tmp) / "bench.jsonl"
        t = time.perf_counter()
        n = write_journal(path, jsonl, args.events, args.checkpoint_every)
        print(f"journal: {n:,} events written in {time.perf_counter() - t:.1f} s")
        reader = open_store(path, cluster="bench", write=False)
        t0, t1 = reader.time_range() or (0.0, 0.0)
        print(f"  spans {t1 - t0:,.0f} s of cluster; {Path(path).stat().st_size / n:.1f} B/event")

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

        state = None  # each reader starts on an empty heap (a full GC pass scans it all)
        gc.collect()
        state = ClusterState(max_tasks=100_000)
        t = time.perf_counter()
        batch: list[dict] = []
        with jsonl.open() as lines:
            for line in lines:
                batch.append(json.loads(line))
                if len(batch) >= APPLY_BATCH:
                    state.apply(batch)
                    batch = []
        state.apply(batch)
        print(f"JSON lines + apply     {rate(n, time.perf_counter() - t)}  (plain alternative)")

        state = None  # each reader starts on an empty heap (a full GC pass scans it all)
        gc.collect()
        state = ClusterState(max_tasks=100_000)
        t = time.perf_counter()
        batch = []
        for event in reader.iter_events(t0):
            batch.append(event)
            if len(batch) >= APPLY_BATCH:
                state.apply(batch)
                batch = []
        state.apply(batch)
        print(f"one thread: read+apply {rate(n, time.perf_counter() - t)}  (what a rebuild does)")

        state = None  # each reader starts on an empty heap (a full GC pass scans it all)
        gc.collect()
        clock = ReplayClock(t0, t1, playing=False)
        source = JournalSource(reader, clock, max_tasks=100_000)
        monitor = ReplayMonitor(load_settings(env={}), source, clock, "bench")
        monitor.start()
        monitor.wait_restored()  # the (empty) state at the start
        clock.set_speed(1e9)  # then play: every event is due at once, fed as fast as it goes
        t = time.perf_counter()
        clock.play()
        while source.cursor < t1 or source.pending:
            source.wait(0.05)
            with monitor.lock:
                monitor.pump()
        played_s = time.perf_counter() - t
        monitor.stop()
        print(f"played (feeder + pump) {rate(monitor.state.events_applied, played_s)}")

        rng = random.Random(7)
        clock = ReplayClock(t0, t1, playing=False)
        source = JournalSource(reader, clock, max_tasks=100_000)
        times = []
        for _ in range(args.seeks):
            at = rng.uniform(t0, t1)
            t = time.perf_counter()
            source.rebuild(at)
            times.append(time.perf_counter() - t)
        times.sort()
        print(
            f"seek ({args.seeks} random moments, checkpoint every {args.checkpoint_every:g} s):"
            f" median {times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
        )
        reader.close()


if __name__ == "__main__":
    main()
