"""Ingest speed: ClusterState.apply against celery's own State.event, same stream, same run.

    .venv/bin/python benchmarks/ingest.py              # both streams below
    .venv/bin/python benchmarks/ingest.py --events 200000   # one stream of your own

By default two streams: 1M events with 100k tasks kept (eviction all along), and 400k events
(about 89k tasks: no eviction). For each it prints both rates and the ratio.

Only the apply / event calls are timed (generating the stream is not), each state alone, in
CPU time (the moments a shared machine gives to others are left out). The two states take
turns, ``--repeat`` rounds of one run each (default 3), and each keeps its best run: a machine
whose speed drifts (neighbours come and go) then slows both alike instead of whichever ran in
the slow minute; every run's rate is printed too. celery's State mutates the event dicts it
is given, so each run gets its own freshly generated stream. Prints figures; asserts nothing
about time.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import generate_events
from celerytui.core.state import ClusterState


def run_cluster_state(events: int, workers: int, seed: int, max_tasks: int) -> tuple[float, int]:
    state = ClusterState(max_tasks=max_tasks)
    elapsed = 0.0
    clock = time.process_time
    for batch in generate_events(events, workers=workers, seed=seed):
        t0 = clock()
        state.apply(batch)
        elapsed += clock() - t0
    if state.malformed:
        print(f"  warning: {state.malformed} events counted as malformed")
    return elapsed, len(state.tasks)


def run_celery_state(events: int, workers: int, seed: int, max_tasks: int) -> tuple[float, int]:
    from celery.events.state import State

    state = State(max_tasks_in_memory=max_tasks)
    event = state.event
    elapsed = 0.0
    clock = time.process_time
    for batch in generate_events(events, workers=workers, seed=seed):
        t0 = clock()
        for ev in batch:
            event(ev)
        elapsed += clock() - t0
    return elapsed, len(state.tasks)


def compare(
    events: int, workers: int, seed: int, max_tasks: int, skip_celery: bool, repeat: int = 3
) -> None:
    print(f"stream: {events:,} events, {workers} workers, seed {seed}, max_tasks {max_tasks:,}")
    runs: dict[str, list[tuple[float, int]]] = {"ours": [], "celery": []}
    for _ in range(max(1, repeat)):  # turns: ours, celery's, ours, ...
        gc.collect()
        runs["ours"].append(run_cluster_state(events, workers, seed, max_tasks))
        if not skip_celery:
            gc.collect()
            runs["celery"].append(run_celery_state(events, workers, seed, max_tasks))
    ours, kept = min(runs["ours"])
    ours_rate = events / ours
    print(
        f"ClusterState.apply : {ours_rate:>10,.0f} events/s  ({ours:.2f} s, {kept:,} tasks kept)"
        f"{_each(events, runs['ours'])}"
    )
    if skip_celery:
        return
    theirs, kept = min(runs["celery"])
    theirs_rate = events / theirs
    print(
        f"celery State.event : {theirs_rate:>10,.0f} events/s  ({theirs:.2f} s, "
        f"{kept:,} tasks kept){_each(events, runs['celery'])}"
    )
    print(f"ratio              : {ours_rate / theirs_rate:.2f}x  (best against best)")
    if len(runs["ours"]) > 1:
        pairs = [t / o for (o, _), (t, _) in zip(runs["ours"], runs["celery"], strict=True)]
        print(f"  ratio of each turn : {', '.join(f'{r:.2f}x' for r in pairs)}")


def _each(events: int, runs: list[tuple[float, int]]) -> str:
    """Every run's rate, in the order they ran (shown when there were several)."""
    if len(runs) < 2:
        return ""
    return "; runs: " + ", ".join(f"{events / seconds / 1000:,.0f}k" for seconds, _ in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events",
        type=int,
        default=None,
        help="one stream of this many events (default: the two streams)",
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-tasks", type=int, default=100_000)
    parser.add_argument("--skip-celery", action="store_true", help="time ClusterState only")
    parser.add_argument(
        "--repeat", type=int, default=3, help="turns: each state runs once a turn, keeps its best"
    )
    args = parser.parse_args(argv)
    runs = [args.events] if args.events is not None else [1_000_000, 400_000]
    for i, events in enumerate(runs):
        if i:
            print()
        compare(events, args.workers, args.seed, args.max_tasks, args.skip_celery, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
