"""Memory: stream 1M tasks through ClusterState(max_tasks=100k); print RSS as it goes.

    .venv/bin/python benchmarks/memory.py               # 1M tasks (about 4.5M events)
    .venv/bin/python benchmarks/memory.py --tasks 400000

Target: at most 250 MB, flat between 500k and 1M tasks (everything the state holds is bounded).
The monitor's own imports (celery, kombu, redis) are loaded first so the figure is a real one;
the TUI adds about 8 MB for Textual.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import celerytui.core.monitor  # noqa: F401 - count what a real monitor imports (celery, kombu)
from benchmarks.synthetic import generate_events
from celerytui.core.state import ClusterState


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--max-tasks", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    checkpoints = [args.tasks * k // 4 for k in (1, 2, 3, 4)]
    state = ClusterState(max_tasks=args.max_tasks)
    print(f"streaming {args.tasks:,} tasks, max_tasks {args.max_tasks:,}; "
          f"RSS before: {rss_mb():.0f} MB")
    started = time.perf_counter()
    events = 0
    for batch in generate_events(10**12, workers=args.workers, seed=args.seed):
        state.apply(batch)
        events += len(batch)
        if state.tasks and state._seq >= checkpoints[0]:
            gc.collect()
            print(f"{checkpoints[0]:>10,} tasks  {events:>10,} events  RSS {rss_mb():6.0f} MB  "
                  f"({len(state.tasks):,} kept, {len(state.workers)} workers, "
                  f"{time.perf_counter() - started:.0f} s)")
            checkpoints.pop(0)
            if not checkpoints:
                break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
