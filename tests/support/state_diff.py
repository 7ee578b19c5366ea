"""Feed one random stream to celery's State and to ClusterState; sort every disagreement.

celery's `State.event` gets the events one at a time (copies: it mutates them); ClusterState
gets them in random batches with `tick()` after each, as the monitor does. Per task kept by both
(they must keep the same tasks: both evict the oldest created) we compare state (LOST mapped
back to what the task was before its worker went: celery has no LOST), worker,
retries, eta, result and exception, and say for each disagreement who matches `truth` (what
really happened, from the events that task got since it was last created):
"celery_wrong" (ours is right), "ours_wrong" (celery is right) or "both_wrong".

    PYTHONPATH=. .venv/bin/python -m tests.support.state_diff --streams 50   # prints figures
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from dataclasses import dataclass, field

from celery.events.state import State

from celerytui.core.model import LOST
from celerytui.core.state import ClusterState
from tests.support.random_streams import Meta, StreamConfig, Truth, make_stream, truth

FIELDS = ("state", "worker", "retries", "eta", "result", "exception")


@dataclass
class Diff:
    tasks: int = 0  # tasks compared (kept by both, never evicted and created again)
    events: int = 0
    evicted: int = 0  # tasks ClusterState evicted during the stream
    # (field, verdict) -> n ; verdict in celery_wrong / ours_wrong / both_wrong
    verdicts: Counter = field(default_factory=Counter)
    # (field, celery's value kind, ours) e.g. ("state", "RETRY", "SUCCESS") -> n
    kinds: Counter = field(default_factory=Counter)
    ours_wrong_alone: Counter = field(default_factory=Counter)  # field -> n, celery agreeing
    ours_kinds: Counter = field(default_factory=Counter)  # (field, ours, truth) where celery right
    final_hidden: int = 0  # tasks that really finished but ClusterState shows otherwise
    streams: int = 0
    streams_final_hidden: int = 0  # streams with at least one such task
    celery_final_hidden: int = 0
    kept_apart: int = 0  # tasks one kept and the other evicted
    counts_consistent: bool = True
    workers_ok: bool = True
    examples: list[str] = field(default_factory=list)

    def add(self, other: Diff) -> None:
        self.tasks += other.tasks
        self.events += other.events
        self.evicted += other.evicted
        self.verdicts.update(other.verdicts)
        self.kinds.update(other.kinds)
        self.ours_wrong_alone.update(other.ours_wrong_alone)
        self.ours_kinds.update(other.ours_kinds)
        self.final_hidden += other.final_hidden
        self.streams += other.streams
        self.streams_final_hidden += other.streams_final_hidden
        self.celery_final_hidden += other.celery_final_hidden
        self.kept_apart += other.kept_apart
        self.counts_consistent &= other.counts_consistent
        self.workers_ok &= other.workers_ok
        self.examples.extend(other.examples[: max(0, 5 - len(self.examples))])


FINAL = frozenset({"SUCCESS", "FAILURE", "REVOKED", "REJECTED"})


def _celery_view(task) -> dict:
    worker = task.worker.hostname if task.worker is not None else None
    return {
        "state": task.state,
        "worker": worker,
        "retries": task.retries or 0,
        "eta": task.eta,
        "result": task.result,
        "exception": task.exception,
    }


def _ours_view(task, lost) -> dict:
    # LOST is ours alone (a worker went offline or silent holding the task): celery's State
    # keeps what the task was before, so compare that (docs/core-api.md, the deviations)
    entry = lost.entry(task.uuid) if task.state == LOST else None
    return {
        "state": entry.was if entry is not None else task.state,
        "worker": task.worker,
        "retries": task.retries,
        "eta": task.eta,
        "result": task.result,
        "exception": task.exception,
    }


def run(cfg: StreamConfig, max_tasks: int) -> Diff:
    stream = make_stream(cfg)
    rng = random.Random(cfg.seed * 7 + 1)
    celery = State(max_tasks_in_memory=max_tasks)
    ours = ClusterState(max_tasks=max_tasks, clock=lambda: stream.events[-1]["local_received"])
    diff = Diff(events=len(stream.events))
    since: dict[str, list[tuple[Meta, dict]]] = {}  # uuid -> its events
    again: set[str] = set()  # created, evicted and created again, by either
    i, events = 0, stream.events
    while i < len(events):
        batch = events[i : i + rng.randint(1, 60)]
        for k, ev in enumerate(batch):
            (_, created), _ = celery.event(dict(ev))
            uuid = ev.get("uuid")
            if uuid is not None:
                if created and uuid in since:
                    again.add(uuid)
                since.setdefault(uuid, []).append((stream.metas[i + k], ev))
        ch = ours.apply([dict(ev) for ev in batch])
        ours.tick(batch[-1]["local_received"])
        diff.evicted += len(ch.removed_tasks)
        again.update(u for u in ch.removed_tasks if u in since)
        i += len(batch)
    diff.kept_apart = len(set(ours.tasks) ^ set(celery.tasks.keys()))
    by_state = Counter(t.state for t in ours.tasks.values())
    counts = ours.counts_by_state()
    diff.counts_consistent = all(counts.get(s, 0) == n for s, n in by_state.items()) and sum(
        counts.values()
    ) == len(ours.tasks)
    for uuid, task in ours.tasks.items():
        ctask = celery.tasks.get(uuid)
        if ctask is None or uuid in again:
            continue
        diff.tasks += 1
        real = truth(since[uuid])
        theirs, mine = _celery_view(ctask), _ours_view(task, ours.lost)
        if real.state in FINAL and mine["state"] != real.state:
            diff.final_hidden += 1
        if real.state in FINAL and theirs["state"] != real.state:
            diff.celery_final_hidden += 1
        for name in FIELDS:
            _sort(diff, name, theirs[name], mine[name], getattr(real, name), uuid)
    diff.workers_ok = _workers_agree(celery, ours)
    diff.streams, diff.streams_final_hidden = 1, int(diff.final_hidden > 0)
    return diff


def _sort(diff: Diff, name: str, theirs: object, mine: object, real: object, uuid: str) -> None:
    if mine == real and theirs != real:
        diff.verdicts[name, "celery_wrong"] += 1
        diff.kinds[name, _kind(name, theirs), _kind(name, mine)] += 1
    elif mine != real:
        verdict = "ours_wrong" if theirs == real else "both_wrong"
        diff.verdicts[name, verdict] += 1
        if verdict == "ours_wrong":
            diff.ours_wrong_alone[name] += 1
            diff.ours_kinds[name, _kind(name, mine), _kind(name, real)] += 1
            if len(diff.examples) < 5:
                diff.examples.append(f"{uuid} {name}: ours {mine!r} celery/truth {real!r}")


def _kind(name: str, value: object) -> object:
    return value if name == "state" else ("None" if value is None else "value")


def _workers_agree(celery: State, ours: ClusterState) -> bool:
    """processed / loadavg / active as the newest worker event said, as celery keeps them."""
    for hostname, cw in celery.workers.items():
        w = ours.workers.get(hostname)
        if w is None:
            return False
        loadavg = tuple(cw.loadavg) if cw.loadavg is not None else None
        if (w.processed, w.loadavg) != (cw.processed or 0, loadavg):
            return False
    return True


CONFIGS = {
    "no skew, clean": {"skew": 0.0},
    "no skew, messy": {"skew": 0.0, "shuffle": 0.1, "duplicates": 0.03, "drops": 0.03},
    "±0.3 s, clean": {"skew": 0.3},
    "±0.3 s, messy": {"skew": 0.3, "shuffle": 0.1, "duplicates": 0.03, "drops": 0.03},
    "±20 s, clean": {"skew": 20.0},
    "±20 s, messy": {"skew": 20.0, "shuffle": 0.1, "duplicates": 0.03, "drops": 0.03},
}


def run_config(name: str, streams: int, max_tasks: int = 120) -> Diff:
    total = Diff()
    first_seed = 1 + 10_000 * list(CONFIGS).index(name)
    for seed in range(first_seed, first_seed + streams):
        total.add(run(StreamConfig(seed=seed, **CONFIGS[name]), max_tasks))
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=50, help="streams per configuration")
    parser.add_argument("--max-tasks", type=int, default=120)
    args = parser.parse_args(argv)
    for name in CONFIGS:
        d = run_config(name, args.streams, args.max_tasks)
        print(
            f"{name}: {args.streams} streams, {d.events:,} events, {d.tasks:,} tasks "
            f"compared, {d.evicted:,} evicted, {d.kept_apart} kept by one only; counts "
            f"consistent {d.counts_consistent}; workers agree {d.workers_ok}"
        )
        print(
            f"  finished tasks shown unfinished: ours {d.final_hidden} (in "
            f"{d.streams_final_hidden} streams), celery {d.celery_final_hidden}"
        )
        for fname in FIELDS:
            row = {v: d.verdicts[fname, v] for v in ("celery_wrong", "ours_wrong", "both_wrong")}
            if any(row.values()):
                print(f"  {fname:9}: {row}")
        for (fname, theirs, mine), n in d.kinds.most_common(8):
            print(f"    celery {fname}={theirs} where ours={mine} (right): {n}")
        for ex in d.examples:
            print(f"    ours wrong: {ex}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["CONFIGS", "Diff", "Truth", "run", "run_config"]
