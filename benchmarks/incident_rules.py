"""What the incident rules cost: one AlertBook pass (every rule, the stuck rule's scan of the
kept tasks included) and one worker's loss (state_lost's scan), over a full ClusterState.

    .venv/bin/python benchmarks/incident_rules.py                 # 100k tasks, 1,000 running
    .venv/bin/python benchmarks/incident_rules.py --tasks 20000 --running 100

The book runs once a second in the Monitor's pump (TICK_INTERVAL), so a pass of N ms costs
N/10 % of the consumer thread. A loss happens when a worker dies: rare. Prints figures;
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from celerytui.config import Thresholds
from celerytui.core.alerts import AlertBook
from celerytui.core.state import ClusterState

T0 = 1_767_225_600.0


def build(tasks: int, running: int, workers: int = 50) -> ClusterState:
    clock = [T0]
    state = ClusterState(max_tasks=tasks, clock=lambda: clock[0])
    events: list[dict] = []
    for i in range(tasks):
        host = f"celery@w{i % workers}"
        ts = T0 + i * 0.001
        base = {"uuid": f"t{i}", "hostname": host, "timestamp": ts, "local_received": ts}
        events.append({**base, "type": "task-received", "name": f"proj.job{i % 20}"})
        events.append({**base, "type": "task-started"})
        if i >= running:
            events.append({**base, "type": "task-succeeded", "runtime": 0.5, "result": "1"})
    for start in range(0, len(events), 10_000):
        state.apply(events[start : start + 10_000])
    clock[0] = T0 + tasks * 0.001 + 120  # the running ones: minutes past their p99
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--running", type=int, default=1_000)
    parser.add_argument("--passes", type=int, default=20)
    args = parser.parse_args()
    state = build(args.tasks, args.running)
    book = AlertBook(Thresholds(), clock=state.clock)
    times = []
    for _ in range(args.passes):
        started = time.perf_counter()
        book.evaluate(state)
        times.append((time.perf_counter() - started) * 1_000)
    stuck = sum(1 for a in book.active() if a.key.startswith("task-stuck:"))
    print(
        f"{args.tasks:,} tasks kept, {args.running:,} STARTED (all stuck: {stuck} alerts, capped)"
    )
    print(
        f"alert pass: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms "
        f"over {args.passes} passes (once a second: {statistics.median(times) / 10:.2f}% of a core)"
    )
    started = time.perf_counter()
    state.tick(state.clock() + 3_600)  # every worker silent: each one's tasks lost
    took = (time.perf_counter() - started) * 1_000
    print(
        f"every worker lost at once: {state.counts_by_state()['LOST']:,} tasks LOST "
        f"in {took:.1f} ms ({len(state.workers)} workers, one scan of the kept tasks)"
    )


if __name__ == "__main__":
    main()
