"""Searching the journal's task rows: what `celerytui history` prints and what the TUI's
Failures screen, task search and task detail read when memory no longer has a task.

The store narrows by time window, state and the plain parts (``find_tasks``); the filter
language (core/filters.py) then runs on each row as a Task, so ``history --filter`` and the
TUI's ``/`` mean exactly the same thing. ``since:`` / ``until:`` terms of the expression are
the store query's window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from celerytui.core.filters import compile_filter, time_bounds
from celerytui.core.model import FAILURE, REJECTED, RETRY, REVOKED, SUCCESS, Task

FAILURE_STATES = (FAILURE, RETRY)
QUERY_FACTOR = 4  # rows fetched per row wanted when a filter runs after the query
MAX_SCANNED = 200_000  # rows a filtered search reads at most


class TaskRows(Protocol):
    """What a search reads from a journal store (celerytui.core.journal's JournalStore)."""

    def find_tasks(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        states: Iterable[str] | None = None,
        names: Iterable[str] | None = None,
        worker: str | None = None,
        text: str | None = None,
        limit: int = 1000,
        newest_first: bool = True,
    ) -> list[Any]: ...

    def get_task(self, uuid: str) -> Any | None: ...


def task_from_row(row: Any) -> Task:
    """A journal TaskRow as the Task the screens and filters read (``finished`` goes to the
    field its state names: succeeded, failed, revoked or rejected)."""
    task = Task(
        row.uuid,
        name=row.name,
        state=row.state or "PENDING",
        args=row.args,
        kwargs=row.kwargs,
        result=row.result,
        exception=row.exception,
        traceback=row.traceback,
        worker=row.worker,
        queue=row.queue,
        sent=row.sent,
        received=row.received,
        started=row.started,
        runtime=row.runtime,
        retries=row.retries or 0,
        root_id=row.root_id,
        parent_id=row.parent_id,
    )
    task.retried = getattr(row, "retried", None)
    finished = row.finished
    if finished:
        if task.state == SUCCESS:
            task.succeeded = finished
        elif task.state == REVOKED:
            task.revoked = finished
        elif task.state == REJECTED:
            task.rejected = finished
        elif task.state == FAILURE:
            task.failed = finished
        else:
            task.date_done = finished
    return task


@dataclass(slots=True, frozen=True)
class HistoryQuery:
    """One search: a filter expression, only failures or not, a time window, a row limit."""

    expr: str = ""
    failures: bool = False
    since: float | None = None
    until: float | None = None
    limit: int = 1000


def search(store: TaskRows, query: HistoryQuery, now: float | None = None) -> list[Task]:
    """The tasks of the journal matching ``query``, newest first, at most ``query.limit``.
    Raises FilterError (one line) for a bad expression or time."""
    matches = compile_filter(query.expr)
    since, until = time_bounds(query.expr, now)
    if query.since is not None:
        since = query.since if since is None else max(since, query.since)
    if query.until is not None:
        until = query.until if until is None else min(until, query.until)
    states = FAILURE_STATES if query.failures else None
    filtered = bool(query.expr.strip())
    found: list[Task] = []
    asked = query.limit * QUERY_FACTOR if filtered else query.limit
    while True:
        rows = store.find_tasks(
            since=since, until=until, states=states, limit=asked, newest_first=True
        )
        found = [task for task in map(task_from_row, rows) if matches(task)]
        if len(found) >= query.limit or len(rows) < asked or asked >= MAX_SCANNED:
            return found[: query.limit]
        asked = min(MAX_SCANNED, asked * 4)


def journal_task(store: TaskRows, uuid: str) -> Task | None:
    """One task from the journal, or None when it has no row."""
    row = store.get_task(uuid)
    return task_from_row(row) if row is not None else None
