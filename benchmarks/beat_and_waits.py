"""What the beat watch and the queue waits cost the consumer: the once-a-second pass over the
kept tasks for each queue's oldest unreceived task (queue_wait.queue_waits), and BeatWatch's
observe over a batch of changed tasks (the pump's share, per batch).

    .venv/bin/python benchmarks/beat_and_waits.py                 # 100k tasks, 10% waiting
    .venv/bin/python benchmarks/beat_and_waits.py --tasks 20000 --waiting 0.5

A pass of N ms once a second (TICK_INTERVAL) costs N/10 % of the consumer thread. Prints
figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from celery import Celery

from celerytui.config import Thresholds
from celerytui.core.beat_watch import BeatWatch
from celerytui.core.queue_wait import queue_waits
from celerytui.core.state import ClusterState

T0 = 1_767_225_600.0


def build(tasks: int, waiting: float, queues: int = 20) -> ClusterState:
    state = ClusterState(max_tasks=tasks)
    every = max(1, round(1 / waiting)) if waiting else tasks + 1
    events: list[dict] = []
    for i in range(tasks):
        ts = T0 + i * 0.001
        base = {"uuid": f"t{i}", "timestamp": ts, "local_received": ts}
        events.append(
            {
                **base,
                "type": "task-sent",
                "hostname": "gen1@client",
                "name": f"proj.job{i % 50}",
                "args": f"({i % 7},)",
                "kwargs": "{}",
                "queue": f"q{(i // 3) % queues}",
            }
        )
        if i % every:
            events.append({**base, "type": "task-received", "hostname": "celery@w1"})
    for start in range(0, len(events), 10_000):
        state.apply(events[start : start + 10_000])
    return state


def timed(fn, repeat: int = 7) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs), max(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--waiting", type=float, default=0.1, help="share never received")
    args = parser.parse_args()
    state = build(args.tasks, args.waiting)
    now = T0 + args.tasks * 0.001 + 5
    waits = queue_waits(state.tasks.values(), now, True)
    waiting = sum(w.waiting for w in waits.queues.values())
    median, worst = timed(lambda: queue_waits(state.tasks.values(), now, True))
    print(
        f"queue_waits over {len(state.tasks):,} tasks ({waiting:,} waiting, "
        f"{len(waits.queues)} queues): median {median:.1f} ms, max {worst:.1f} ms"
    )

    app = Celery("proj", set_as_current=False)
    app.conf.beat_schedule = {
        f"job{n}-{a}": {"task": f"proj.job{n}", "schedule": 60.0, "args": (a,)}
        for n in range(50)
        for a in range(7)
    }
    app.conf.task_send_sent_event = True
    watch = BeatWatch.from_app(app, Thresholds(), T0)
    batch = list(state.tasks)[:10_000]
    t = time.perf_counter()
    watch.observe(state.tasks, batch)
    first = (time.perf_counter() - t) * 1000
    median, _worst = timed(lambda: watch.observe(state.tasks, batch))
    print(
        f"BeatWatch.observe, {len(watch.entries)} entries, {len(batch):,} changed tasks, every "
        f"one a candidate: {first:.1f} ms the first time (args read), {median:.1f} ms again "
        "(the same tasks' later events)"
    )
    median, worst = timed(lambda: watch.advance(now + 3600))
    print(f"BeatWatch.advance over {len(watch.entries)} entries: median {median:.2f} ms")


if __name__ == "__main__":
    main()
