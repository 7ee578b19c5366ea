"""What finding a plain client's group costs (core/canvas_members.py): one scan of a Redis
broker's queue and unacked hash (at most SCAN_LIMIT messages) and MGETs of the candidates'
result metas, on an embedded Redis. It runs on the detail's worker thread, when the detail
opens and on x / X; this says how long the user waits for the tree and the dialog.

    .venv/bin/python benchmarks/canvas_lookup.py                # 5000 queued, group of 1000
    .venv/bin/python benchmarks/canvas_lookup.py --queued 20000 --group 5000 --candidates 2000

celery's State has no counterpart (its events carry no group), so the figure is compared
with the floor of the same reads: one LRANGE of the whole queue and one MGET of the
candidates' metas without decoding. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis
from celery import Celery

from celerytui.core.canvas_broker import SCAN_LIMIT
from celerytui.core.canvas_members import CanvasFinder
from tests.support.services import RedisServer

QUEUE = "bench"


def tid(prefix: str, i: int) -> str:
    """A task id shaped like celery's (a uuid4)."""
    return f"{i:08d}-{prefix:>04}-4000-8000-000000000000"


GROUP = "5f0c6a52-3d54-4f5e-9d3b-8f4c1b2a7e10"  # a group id as celery makes them


def message(task_id: str, group: str | None, index: int) -> bytes:
    headers = {"id": task_id, "task": "bench.t", "group": group, "group_index": index}
    body = base64.b64encode(json.dumps([[index], {}, {}]).encode()).decode()
    return json.dumps({"body": body, "headers": headers, "properties": {}}).encode()


def fill(broker: redis.Redis, backend: redis.Redis, args: argparse.Namespace) -> list[str]:
    pipe = broker.pipeline(transaction=False)
    for i in range(args.queued):
        in_group = i < args.group
        pipe.lpush(QUEUE, message(tid("q", i), GROUP if in_group else f"{GROUP[:-2]}x{i % 7}", i))
    pipe.execute()
    candidates = [tid("done", i) for i in range(args.candidates)]
    pipe = backend.pipeline(transaction=False)
    for i, task_id in enumerate(candidates):
        meta = {"task_id": task_id, "status": "SUCCESS", "result": i, "date_done": None}
        if i % 4 == 0:
            meta["group_id"] = GROUP
        pipe.set(f"celery-task-meta-{task_id}", json.dumps(meta))
    pipe.execute()
    return candidates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=SCAN_LIMIT)
    parser.add_argument("--group", type=int, default=1000)
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = RedisServer().start()
    url = f"redis://127.0.0.1:{server.port}"
    app = Celery("bench", broker=f"{url}/0", backend=f"{url}/1", set_as_current=False)
    broker, backend = redis.Redis.from_url(f"{url}/0"), redis.Redis.from_url(f"{url}/1")
    try:
        candidates = fill(broker, backend, args)
        keys = [f"celery-task-meta-{c}" for c in candidates]
        cold, warm, floors = [], [], []
        members = 0
        for _ in range(args.runs):
            finder = CanvasFinder(app)
            started = time.perf_counter()
            finder.find(tid("q", args.group - 1), candidates, [QUEUE])  # the detail opens
            cold.append(time.perf_counter() - started)
            started = time.perf_counter()
            found = finder.find(tid("q", args.group - 1), candidates, [QUEUE])  # x pressed
            warm.append(time.perf_counter() - started)
            members = len(found.members) if found else 0
            started = time.perf_counter()
            broker.lrange(QUEUE, -SCAN_LIMIT, -1)
            backend.mget(keys)
            floors.append(time.perf_counter() - started)
        print(
            f"[figure] group lookup: {args.queued} queued (group of {args.group}), "
            f"{args.candidates} candidate metas -> {members} members"
        )
        for label, times in (
            ("detail opens (group unknown)", cold),
            ("x pressed (group known)     ", warm),
            ("raw reads floor             ", floors),
        ):
            print(f"[figure]   {label}: " + "  ".join(f"{t * 1000:.0f} ms" for t in times))
        ratio = statistics.median(cold) / statistics.median(floors)
        print(f"[figure]   median cold / floor: {ratio:.1f}x")
    finally:
        broker.close()
        backend.close()
        app.close()
        server.stop()


if __name__ == "__main__":
    main()
