"""Replay speed: events/s from a SQLite journal through JournalSource into ClusterState, and
how long a seek takes — side by side, in the same run, with the plain alternative (the same
events as JSON lines, read and applied) and with ClusterState.apply alone (the ceiling).

    .venv/bin/python benchmarks/replay.py                    # 500k synthetic events
    .venv/bin/python benchmarks/replay.py --events 10000000   # the issue's journal (~25 min)
    .venv/bin/python benchmarks/replay.py --events 2000000 --task-events 1

The journal is written first (as the recorder writes it: batches, a checkpoint by the
recorder's policy, ``checkpoint_due``: at least ``--checkpoint-every`` seconds of the stream
and max(``--checkpoint-events``, ``--task-events`` x tasks) events apart, a delta on the one
before unless the deltas since the last full one hold ``--chain-rows`` rows a task kept:
core/journal/checkpoint_plan.py), then each reader runs on it. ``--recheckpoint D`` writes
it instead from the events of the journal an earlier run kept in D (the same events and
states: what this recorder would have written), in a few minutes instead of ~25.


- iter_events alone (read + decode: the journal's own figure);
- apply alone, over events already in memory;
- JSON lines: the same events from a .jsonl file, json.loads + apply (the plain alternative);
- one thread: iter_events + apply in batches from the start, the collector off (what a
  rebuild does);
- played: the ReplayMonitor pumping a JournalSource whose clock runs as fast as it can (the
  feeder thread reads whole chunks, the pump inflates, decodes and applies them, the
  collector held as the TUI's GcPolicy holds it: what `celerytui replay` does, minus
  drawing), in wall and in CPU time;
- seek: rebuild at random moments (nearest checkpoint, then the events after it);
- seek (TUI path): what a user waits for after `g`: the ReplayMonitor's clock seeks to the
  start of a random minute, the feeder rebuilds (the pump waits for it), the pump swaps the
  state in (its tasks LazyTasks: core/snapshot_lazy.py; made whole by later pumps).

Times are wall-clock (two threads share one GIL; CPU time would count both). The machine is
shared: run it twice. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sqlite3
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
from celerytui.core.journal.checkpoint_plan import (
    CHAIN_ROWS,
    CHECKPOINT_EVENTS,
    CHECKPOINT_EVERY,
    TASK_EVENTS,
    CheckpointPlan,
    checkpoint_due,
)
from celerytui.core.journal_source import JournalSource, event_time
from celerytui.core.replay_clock import ReplayClock
from celerytui.core.replay_monitor import ReplayMonitor
from celerytui.core.state import ClusterState
from celerytui.gc_policy import GcPolicy

APPLY_BATCH = 5_000


class Checkpointer:
    """The recorder's checkpoint policy on a live state: ``feed`` applies a batch and gives
    the checkpoint (time, bytes) due after it, if any (checkpoint_due, CheckpointPlan)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.live = ClusterState(max_tasks=100_000)
        self.plan = CheckpointPlan(chain_rows=args.chain_rows)
        self.since = 0
        self.last: float | None = None
        self.bytes = self.full = self.deltas = 0

    def feed(self, batch: list[dict[str, Any]]) -> tuple[float, bytes] | None:
        changes = self.live.apply([dict(e) for e in batch])
        self.plan.note_changes(changes)
        self.since += len(batch)
        at = event_time(batch[-1])
        self.last = at if self.last is None else self.last
        args = self.args
        if not checkpoint_due(
            at - self.last,
            self.since,
            len(self.live.tasks),
            every=args.checkpoint_every,
            min_events=args.checkpoint_events,
            per_task=args.task_events,
        ):
            return None
        snapshot = state_snapshot.encode(self.plan.capture(self.live, at))
        self.bytes += len(snapshot)
        if state_snapshot.is_delta(snapshot):
            self.deltas += 1
        else:
            self.full += 1
        self.last, self.since = at, 0
        return at, snapshot

    def figures(self, events: int) -> str:
        return (
            f"  checkpoints: {self.full} full + {self.deltas} deltas, {self.bytes / 1e6:.1f} MB,"
            f" {self.bytes / max(1, events):.1f} B/event"
        )


def write_journal(path: str, jsonl: Path | None, args: argparse.Namespace) -> tuple[int, str]:
    """(events written, the checkpoints' figures); the JSON lines copy only when ``jsonl``."""
    store = open_store(path, cluster="bench", write=True)
    checkpoints = Checkpointer(args)
    written = 0
    lines = jsonl.open("w") if jsonl is not None else None
    for batch in generate_events(args.events, rate=2_000.0):
        if lines is not None:
            lines.writelines(json.dumps(e) + "\n" for e in batch)
        store.append(batch)
        written += len(batch)
        due = checkpoints.feed(batch)
        if due is not None:
            store.write_checkpoint(*due)
            store.flush()
    if lines is not None:
        lines.close()
    store.flush()
    store.close()
    return written, checkpoints.figures(written)


def recheckpoint(source: str, path: str, args: argparse.Namespace) -> tuple[int, str]:
    """A copy of the journal at ``source`` whose checkpoints are written again by the policy
    of this code (the same events, the same states: what its recorder would have written)."""
    with sqlite3.connect(source) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
        dst.execute("DELETE FROM checkpoints")
    reader = open_store(source, cluster="bench", write=False)
    store = open_store(path, cluster="bench", write=True)
    checkpoints = Checkpointer(args)
    written = 0
    batch: list[dict[str, Any]] = []
    t0, _ = reader.time_range() or (0.0, 0.0)
    for event in reader.iter_events(t0 - 1.0):
        batch.append(event)
        if len(batch) >= 500:  # the synthetic stream's batches
            written += len(batch)
            due = checkpoints.feed(batch)
            batch = []
            if due is not None:
                store.write_checkpoint(*due)
                store.flush()
    if batch:
        written += len(batch)
        checkpoints.feed(batch)
    store.flush()
    store.close()
    reader.close()
    with sqlite3.connect(path) as dst:
        dst.execute("VACUUM")
    return written, checkpoints.figures(written)


def seek_tui_path(
    reader: Any, t0: float, t1: float, seeks: int
) -> tuple[list[float], list[float], list[int]]:
    """Seconds from a seek to the start of a random minute to the rebuilt state swapped in,
    as the TUI does it: the feeder thread rebuilds while the pump loop waits on the source.
    Also the CPU seconds of the process meanwhile (both threads: on a shared machine the
    wall clock counts the others' work too) and the checkpoints each seek loaded."""
    clock = ReplayClock(t0, t1, playing=False)
    source = JournalSource(reader, clock, max_tasks=100_000)
    monitor = ReplayMonitor(load_settings(env={}), source, clock, "bench")
    monitor.start()
    monitor.wait_restored(60.0)
    rng = random.Random(11)
    minutes = max(1, int((t1 - t0) // 60))
    times, cpu, chains = [], [], []
    for _ in range(seeks):
        at = t0 + 60 * rng.randrange(minutes)
        chains.append(len(checkpoints_before(reader, at)))
        t, c = time.perf_counter(), time.process_time()
        clock.seek(at)
        while clock.seeking:  # a restore, or (a short step ahead) fed through
            source.wait(0.01)
            with monitor.lock:
                monitor.pump()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    monitor.stop()
    return times, cpu, chains


def checkpoints_before(reader: Any, at: float) -> list[Any]:
    """The checkpoints a seek to ``at`` loads (one: a reader of before the deltas)."""
    if hasattr(reader, "checkpoint_chain"):
        return reader.checkpoint_chain(at)
    return [reader.checkpoint_before(at)]


def figures(times: list[float]) -> str:
    times = sorted(times)
    return f"median {times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"


def rate(n: int, seconds: float, cpu: float | None = None) -> str:
    """Events/s in wall time, and in CPU time when given (the process's: on a shared machine
    the wall clock counts the others' work too)."""
    text = f"{n / seconds:>12,.0f} events/s  ({seconds:.2f} s)"
    if cpu:
        text += f"  cpu {n / cpu:,.0f}/s"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--checkpoint-every", type=float, default=CHECKPOINT_EVERY)
    parser.add_argument("--checkpoint-events", type=int, default=CHECKPOINT_EVENTS)
    parser.add_argument("--task-events", type=float, default=TASK_EVENTS)
    parser.add_argument("--chain-rows", type=float, default=CHAIN_ROWS)
    parser.add_argument(
        "--recheckpoint", help="build the journal from this one's events (a --dir of an older run)"
    )
    parser.add_argument("--seeks", type=int, default=10)
    parser.add_argument("--seeks-only", action="store_true", help="skip the throughput lines")
    parser.add_argument(
        "--seek-span", type=float, help="seek within the first SECONDS of the journal only"
    )
    parser.add_argument("--dir", help="keep the journal here (reused when it is there)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.dir or tmp)
        where.mkdir(parents=True, exist_ok=True)
        path, jsonl = str(where / "bench.sqlite3"), where / "bench.jsonl"
        if not Path(path).exists():
            t = time.perf_counter()
            if args.recheckpoint:
                n, snapshots = recheckpoint(
                    str(Path(args.recheckpoint) / "bench.sqlite3"), path, args
                )
            else:
                n, snapshots = write_journal(path, None if args.seeks_only else jsonl, args)
            print(f"journal: {n:,} events written in {time.perf_counter() - t:.1f} s")
            print(snapshots)
            (where / "events").write_text(str(n))
            (where / "checkpoints").write_text(snapshots)
        elif (where / "checkpoints").exists():
            print((where / "checkpoints").read_text())
        reader = open_store(path, cluster="bench", write=False)
        t0, t1 = reader.time_range() or (0.0, 0.0)
        n = int((where / "events").read_text())
        print(f"  spans {t1 - t0:,.0f} s of cluster; {Path(path).stat().st_size / n:.1f} B/event")
        if args.seeks_only:
            seeks(reader, t0, t1 if args.seek_span is None else t0 + args.seek_span, args)
            return

        t, c = time.perf_counter(), time.process_time()
        events = list(reader.iter_events(t0))
        read_s, read_cpu = time.perf_counter() - t, time.process_time() - c
        print(f"iter_events alone      {rate(len(events), read_s, read_cpu)}")

        state = None  # each reader starts on an empty heap (a full GC pass scans it all)
        gc.collect()
        state = ClusterState(max_tasks=100_000)
        t, c = time.perf_counter(), time.process_time()
        for i in range(0, len(events), APPLY_BATCH):
            state.apply(events[i : i + APPLY_BATCH])
        apply_s, apply_cpu = time.perf_counter() - t, time.process_time() - c
        print(f"apply alone (ceiling)  {rate(len(events), apply_s, apply_cpu)}")
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
        t, c = time.perf_counter(), time.process_time()
        batch: list[dict] = []
        for event in reader.iter_events(t0):
            batch.append(event)
            if len(batch) >= APPLY_BATCH:
                state.apply(batch)
                batch = []
        state.apply(batch)
        one_s, one_cpu = time.perf_counter() - t, time.process_time() - c
        gc.enable()
        print(f"one thread: read+apply {rate(n, one_s, one_cpu)}  (what a rebuild does)")

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
        print(f"played (feeder + pump) {rate(applied, played_s, played_cpu)}")
        print(
            f"  played / apply alone: wall {apply_s / played_s * applied / n:.2f},"
            f" cpu {apply_cpu / played_cpu * applied / n:.2f}"
        )

        seeks(reader, t0, t1, args)


def seeks(reader: Any, t0: float, t1: float, args: argparse.Namespace) -> None:
    rng = random.Random(7)
    clock = ReplayClock(t0, t1, playing=False)
    source = JournalSource(reader, clock, max_tasks=100_000)
    times, cpu = [], []
    for _ in range(args.seeks):
        at = rng.uniform(t0, t1)
        t, c = time.perf_counter(), time.process_time()
        state = source.rebuild(at)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        source.retired.add(state)  # let go of as the monitor does (JournalSource.rebuild)
    print(
        f"seek ({args.seeks} random moments, rebuild alone): {figures(times)}; cpu {figures(cpu)}"
    )
    gc.collect()
    tui, tui_cpu, chains = seek_tui_path(reader, t0, t1, args.seeks)
    print(f"seek (TUI path): {figures(tui)}  ({args.seeks} random minutes)")
    print(f"  cpu: {figures(tui_cpu)}; checkpoints loaded per seek: {min(chains)}-{max(chains)}")
    reader.close()


if __name__ == "__main__":
    main()
