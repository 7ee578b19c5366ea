"""Memory: stream 1M tasks with 100k kept through ClusterState and through celery's own State,
each in a fresh process; print RSS side by side at 250k, 500k, 750k and 1M tasks.

    .venv/bin/python benchmarks/memory.py               # 1M tasks (about 4.5M events), both
    .venv/bin/python benchmarks/memory.py --tasks 400000 --impl celerytui

Target for ClusterState: at most 250 MB, flat between 500k and 1M tasks (everything it holds
is bounded). The monitor's own imports (celery, kombu, redis) are loaded first in both
processes so the figures are real ones; the TUI adds about 8 MB for Textual.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import celerytui.core.monitor  # noqa: E402, F401 - count what a real monitor imports
from benchmarks.synthetic import generate_events  # noqa: E402

IMPLS = ("celerytui", "celery")


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def measure(impl: str, tasks: int, max_tasks: int, workers: int, seed: int) -> list[dict]:
    """Stream the tasks through one implementation; a row per checkpoint."""
    if impl == "celerytui":
        from celerytui.core.state import ClusterState

        state = ClusterState(max_tasks=max_tasks)
        apply, kept = state.apply, lambda: len(state.tasks)
    else:
        from celery.events.state import State

        state = State(max_tasks_in_memory=max_tasks)
        event = state.event

        def apply(batch: list[dict]) -> None:
            for ev in batch:
                event(ev)

        kept = lambda: len(state.tasks)  # noqa: E731
    checkpoints = [tasks * k // 4 for k in (1, 2, 3, 4)]
    rows, seen, events = [], 0, 0
    started = time.perf_counter()
    for batch in generate_events(10**12, workers=workers, seed=seed):
        apply(batch)
        events += len(batch)
        seen += sum(1 for ev in batch if ev["type"] == "task-received" and not ev.get("retries"))
        if seen >= checkpoints[0]:
            gc.collect()
            rows.append(
                {
                    "tasks": checkpoints[0],
                    "events": events,
                    "rss_mb": rss_mb(),
                    "kept": kept(),
                    "seconds": time.perf_counter() - started,
                }
            )
            checkpoints.pop(0)
            if not checkpoints:
                break
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--max-tasks", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--impl", choices=(*IMPLS, "both"), default="both")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)

    if args.json:
        print(json.dumps(measure(args.impl, args.tasks, args.max_tasks, args.workers, args.seed)))
        return 0
    impls = IMPLS if args.impl == "both" else (args.impl,)
    print(
        f"streaming {args.tasks:,} tasks, {args.max_tasks:,} kept, each implementation in a "
        f"fresh process (imports loaded: {rss_mb():.0f} MB)"
    )
    results = {}
    for impl in impls:
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--json",
                "--impl",
                impl,
                "--tasks",
                str(args.tasks),
                "--max-tasks",
                str(args.max_tasks),
                "--workers",
                str(args.workers),
                "--seed",
                str(args.seed),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        results[impl] = json.loads(child.stdout)
    print(f"{'tasks':>10}  " + "  ".join(f"{impl + ' RSS':>15}  {'s':>4}" for impl in impls))
    for i, row in enumerate(results[impls[0]]):
        cells = "  ".join(
            f"{results[impl][i]['rss_mb']:12.0f} MB  {results[impl][i]['seconds']:4.0f}"
            for impl in impls
        )
        print(f"{row['tasks']:>10,}  {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
