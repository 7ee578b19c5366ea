"""Ingest speed: ClusterState.apply against celery's own State.event, same stream, same run.

    .venv/bin/python benchmarks/ingest.py              # 1M events, 100k tasks kept
    .venv/bin/python benchmarks/ingest.py --events 200000

Only the apply / event calls are timed (generating the stream is not). celery's State mutates
the event dicts it is given, so it gets its own copy of each batch. Prints figures; asserts
nothing about time.
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
    clock = time.perf_counter
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
    clock = time.perf_counter
    for batch in generate_events(events, workers=workers, seed=seed):
        t0 = clock()
        for ev in batch:
            event(ev)
        elapsed += clock() - t0
    return elapsed, len(state.tasks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-tasks", type=int, default=100_000)
    parser.add_argument("--skip-celery", action="store_true", help="time ClusterState only")
    args = parser.parse_args(argv)

    print(f"stream: {args.events:,} events, {args.workers} workers, seed {args.seed}, "
          f"max_tasks {args.max_tasks:,}")
    ours, kept = run_cluster_state(args.events, args.workers, args.seed, args.max_tasks)
    ours_rate = args.events / ours
    print(f"ClusterState.apply : {ours_rate:>10,.0f} events/s  ({ours:.2f} s, {kept:,} tasks kept)")
    if args.skip_celery:
        return 0
    gc.collect()
    theirs, kept = run_celery_state(args.events, args.workers, args.seed, args.max_tasks)
    theirs_rate = args.events / theirs
    print(f"celery State.event : {theirs_rate:>10,.0f} events/s  ({theirs:.2f} s, "
          f"{kept:,} tasks kept)")
    print(f"ratio              : {ours_rate / theirs_rate:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
