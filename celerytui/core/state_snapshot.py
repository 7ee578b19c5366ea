"""A ClusterState as bytes and back: the journal's checkpoints, so a replay reaches any
moment from the newest checkpoint before it instead of from the first event.

JSON, zlib-compressed — never pickle: a shared store (PostgreSQL) must not be a way to run
code in every reader. What a snapshot holds: the tasks in memory (every field, in insertion
order), workers, checks, the failure list, per-name runtimes, the per-second rings and the
counts. What is derived (counts by state and name, chain members, orphan links) is rebuilt
on load. The exporter's cumulative series are not kept (replay serves no /metrics).

`capture(state)` copies what is needed (fast, on the consumer thread that owns the state);
`encode(captured)` compresses it on any thread; `dump = encode(capture(...))`.
"""

from __future__ import annotations

import gc
import json
import zlib
from collections import deque
from dataclasses import fields
from operator import attrgetter
from typing import Any

from celerytui.core.model import NO_CHILDREN, DiskCheck, HttpCheck, Task, Worker
from celerytui.core.state import ClusterState
from celerytui.core.task_stats import SecondRing

FORMAT = 1
_TASK = tuple(f.name for f in fields(Task))
_WORKER = tuple(f.name for f in fields(Worker))
_HTTP = tuple(f.name for f in fields(HttpCheck))
_DISK = tuple(f.name for f in fields(DiskCheck))


def capture(state: ClusterState) -> dict[str, Any]:
    """A detached copy of what a snapshot holds (lists of values, no live objects).

    The cyclic GC is held off meanwhile: the copy makes a few objects per task that all
    survive, and a collection in the middle would only scan them (it doubles the time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _capture(state)
    finally:
        if was_enabled:
            gc.enable()


def _capture(state: ClusterState) -> dict[str, Any]:
    fields_of = attrgetter(*_TASK)  # one C call a task: this runs on the consumer thread
    children = _TASK.index("children")  # the timeline is a tuple: the consumer replaces it
    tasks = []
    for task in state.tasks.values():
        row = list(fields_of(task))
        row[children] = row[children][:]  # the consumer goes on changing this list
        tasks.append(row)
    ring = state._ring
    return {
        "format": FORMAT,
        "max_tasks": state.max_tasks,
        "tasks": tasks,
        "workers": [[getattr(w, n) for n in _WORKER] for w in state.workers.values()],
        "http": [
            [list(c.history) if n == "history" else getattr(c, n) for n in _HTTP]
            for c in state.http_checks.values()
        ],
        "disk": [[getattr(c, n) for n in _DISK] for c in state.disk_checks.values()],
        "failures": list(state._failures),
        "runtimes": {name: list(s.runtimes) for name, s in state._stats.items()},
        "ring": [list(ring.seconds), [list(r) for r in ring.counts], ring.newest],
        "worker_rings": {
            host: [list(r.seconds), [list(c) for c in r.counts], r.newest]
            for host, r in state._worker_rings.items()
        },
        "seq": state._seq,
        "events_applied": state.events_applied,
        "malformed": state.malformed,
    }


ENCODE_SLICE = 200  # tasks per json.dumps call (a few ms of GIL each)


def encode(captured: dict[str, Any]) -> bytes:
    """The capture as compressed JSON. Tasks are written a slice at a time: one json.dumps
    call holds the GIL throughout, and 100k tasks at once would freeze the UI for a second."""
    tasks = captured["tasks"]
    rest = {key: value for key, value in captured.items() if key != "tasks"}
    parts = [json.dumps(rest, separators=(",", ":"), default=repr)[:-1], ',"tasks":[']
    for start in range(0, len(tasks), ENCODE_SLICE):
        if start:
            parts.append(",")
        piece = tasks[start : start + ENCODE_SLICE]
        parts.append(json.dumps(piece, separators=(",", ":"), default=repr)[1:-1])
    parts.append("]}")
    return zlib.compress("".join(parts).encode(), 6)


def dump(state: ClusterState) -> bytes:
    """The state as bytes (see the module docstring)."""
    return encode(capture(state))


def load(data: bytes, max_tasks: int | None = None) -> ClusterState:
    """A ClusterState as it was when dumped, keeping at most `max_tasks` (the newest)."""
    was_enabled = gc.isenabled()
    gc.disable()  # as in capture: many objects, all kept
    try:
        return _load(data, max_tasks)
    finally:
        if was_enabled:
            gc.enable()


def _load(data: bytes, max_tasks: int | None) -> ClusterState:
    snap = json.loads(zlib.decompress(data))
    if not isinstance(snap, dict) or snap.get("format") != FORMAT:
        raise ValueError("not a celerytui state snapshot of a known format")
    state = ClusterState(max_tasks=max_tasks or int(snap["max_tasks"]))
    rows = snap["tasks"][-state.max_tasks :]
    tasks = state.tasks
    if rows and len(rows[0]) != len(_TASK):
        raise ValueError("a state snapshot of another Task layout")
    by_state, order = state._by_state, state._order
    for row in rows:
        task = Task(*row)  # fields in _TASK order
        task.timeline = tuple((t, kind) for t, kind in task.timeline)
        tasks[task.uuid] = task
        order.append(task.uuid)
        by_state[task.state] = by_state.get(task.state, 0) + 1
        if task.name is not None:
            counts = state._stats_for(task.name).counts
            counts[task.state] = counts.get(task.state, 0) + 1
    for task in tasks.values():
        kept = [c for c in task.children if c in tasks]
        task.children = kept or NO_CHILDREN  # as ClusterState's own: shared while empty
        root = task.root_id
        if root is not None and root != task.uuid:
            state._chain_members.setdefault(root, deque()).append(task.uuid)
        parent = task.parent_id
        if parent is not None and parent not in tasks:
            state._orphans.setdefault(parent, {})[task.uuid] = None
    for row in snap["workers"]:
        worker = Worker(**dict(zip(_WORKER, row, strict=True)))
        if worker.loadavg is not None:
            worker.loadavg = tuple(worker.loadavg)
        state.workers[worker.hostname] = worker
    for row in snap["http"]:
        check = HttpCheck(**dict(zip(_HTTP, row, strict=True)))
        check.history = deque((tuple(h) for h in check.history), maxlen=60)
        state.http_checks[check.url] = check
    for row in snap["disk"]:
        disk = DiskCheck(**dict(zip(_DISK, row, strict=True)))
        state.disk_checks[disk.host] = disk
    for uuid in snap["failures"]:
        state._remember_failure(uuid)
    for name, runtimes in snap["runtimes"].items():
        stats = state._stats_for(name)
        for runtime in runtimes:
            stats.add_runtime(runtime)
    _fill_ring(state._ring, snap["ring"])
    for host, ring in snap["worker_rings"].items():
        state._worker_rings[host] = _fill_ring(SecondRing(len(ring[1]), len(ring[0])), ring)
    state._seq = int(snap["seq"])
    state.events_applied = int(snap["events_applied"])
    state.malformed = int(snap["malformed"])
    return state


def _fill_ring(ring: SecondRing, saved: list[Any]) -> SecondRing:
    seconds, counts, newest = saved
    if len(seconds) == ring.size and len(counts) == len(ring.counts):
        ring.seconds = list(seconds)
        ring.counts = [list(row) for row in counts]
        ring.newest = newest
    return ring
