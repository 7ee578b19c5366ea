"""JournalLookup: the journal as the live TUI's screens read it — failures from before this
session, task search past the in-memory window, a task memory no longer has.

The store (``--store`` / ``store =``, else this cluster's default file) is opened for reading
on first use and only ever called from thread workers, never on the event loop: a query on a
shared PostgreSQL may take a while. No journal yet (nothing recorded) is not an error: the
screens just find nothing there; ``problem`` says why, once, for a status line.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from celerytui.core.history_search import HistoryQuery, journal_task, search
from celerytui.core.model import Task
from celerytui.redaction import one_line

RETRY_OPEN_AFTER = 30.0  # seconds before a store that would not open is tried again


class JournalLookup:
    """Lazily opened, read-only; every method blocks (call it from a thread worker)."""

    def __init__(self, settings: Any, broker_url: str | None = None) -> None:
        self.settings = settings
        self.broker_url = broker_url  # the watched app's (-A proj may have its own)
        self._store: Any = None
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self.problem: str | None = None  # why the journal could not be read, one line

    def _open(self) -> Any:
        with self._lock:
            if self._store is not None:
                return self._store
            if (
                self._failed_at is not None
                and time.monotonic() - self._failed_at < RETRY_OPEN_AFTER
            ):
                return None
            from celerytui.core.journal import JournalError, open_store
            from celerytui.core.journal.recorder import journal_cluster

            cluster = journal_cluster(self.settings, self.broker_url)
            try:
                self._store = open_store(self.settings.store or None, cluster=cluster, write=False)
            except JournalError as exc:
                self._failed_at = time.monotonic()
                self.problem = one_line(exc)
                return None
            self.problem = None
            return self._store

    def failures(self, before: float, limit: int = 500) -> list[Task]:
        """Failed and retried tasks whose newest event is before ``before``, newest first."""
        store = self._open()
        if store is None:
            return []
        return search(store, HistoryQuery(failures=True, until=before, limit=limit))

    def search(self, expr: str, limit: int = 1000) -> list[Task]:
        """Tasks matching the filter expression (its since:/until: terms the window)."""
        store = self._open()
        if store is None:
            return []
        return search(store, HistoryQuery(expr=expr, limit=limit))

    def task(self, uuid: str) -> Task | None:
        store = self._open()
        return journal_task(store, uuid) if store is not None else None

    def close(self) -> None:
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()
