"""Journals for the readers' tests: a known synthetic stream (and one hostile task) recorded
the way the recorder records it (events appended in batches, task rows kept current, a
checkpoint now and then), into a SQLite file or a PostgreSQL schema of its own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from benchmarks.synthetic import generate_events
from celerytui.core import state_snapshot
from celerytui.core.journal import open_store, task_row
from celerytui.core.journal_source import event_time
from celerytui.core.state import ClusterState
from tests.support.cluster_events import failed, received
from tests.support.journal_stores import PgSchemas, store_spec

HOSTILE_NAME = "proj.\x1b[2J\x1b]0;owned\x07[bold red]evil[/]"
HOSTILE_EXC = "ValueError('\x1b[31mred\u2028line[/]')"
HOSTILE_UUID = "hostile-0000-task"


@contextlib.contextmanager
def store_url(kind: str, tmp_path) -> Iterator[str]:
    """A journal spec of ``kind`` ("sqlite" or "postgres") that nothing else uses; a
    PostgreSQL schema is dropped on exit (journal_stores.PgSchemas)."""
    schemas = PgSchemas()
    try:
        yield store_spec("postgresql" if kind == "postgres" else "sqlite", tmp_path, schemas)
    finally:
        schemas.drop_all()


@dataclass
class Recorded:
    """What was recorded, and the cluster as a live monitor saw it after every event."""

    spec: str
    events: list[dict] = field(default_factory=list)
    live: ClusterState = field(default_factory=lambda: ClusterState(max_tasks=10**9))
    checkpoints: list[float] = field(default_factory=list)

    @property
    def span(self) -> tuple[float, float]:
        return event_time(self.events[0]), event_time(self.events[-1])

    def state_at(self, at: float) -> ClusterState:
        """The cluster after every event received at or before ``at``, applied afresh."""
        state = ClusterState(max_tasks=10**9)
        state.apply([dict(e) for e in self.events if event_time(e) <= at])
        return state


def _batches(n: int, rate: float, seed: int) -> Iterator[list[dict]]:
    """The synthetic stream, then one task whose name and error are terminal escapes."""
    last = 0.0
    for batch in generate_events(n, rate=rate, seed=seed):
        last = event_time(batch[-1])
        yield batch
    yield [
        received(HOSTILE_UUID, last + 0.25, name=HOSTILE_NAME, hostname="celery@worker-00"),
        failed(HOSTILE_UUID, last + 0.5, exception=HOSTILE_EXC, hostname="celery@worker-00"),
    ]


def record_synthetic(
    spec: str, n: int = 20_000, *, rate: float = 500.0, checkpoint_every: int = 40, seed: int = 3
) -> Recorded:
    """Record ``n`` synthetic events (and the hostile task) into the store at ``spec`` as the
    recorder would."""
    recorded = Recorded(spec)
    store = open_store(spec, cluster="replay-test", write=True)
    try:
        for i, batch in enumerate(_batches(n, rate, seed)):
            changes = recorded.live.apply([dict(e) for e in batch])
            recorded.events.extend(batch)
            store.append(batch)
            tasks = recorded.live.tasks
            store.upsert_tasks(task_row(tasks[u]) for u in changes.tasks if u in tasks)
            if i % checkpoint_every == checkpoint_every // 2:
                at = event_time(batch[-1])
                store.write_checkpoint(at, state_snapshot.dump(recorded.live))
                recorded.checkpoints.append(at)
            if i % 10 == 0:
                store.flush()
        store.flush()
    finally:
        store.close()
    return recorded
