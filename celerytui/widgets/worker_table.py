"""Workers as a table: status, heartbeat age, load, active, processed, pool, queues.

Keyed by hostname, updated cell by cell; ages move once a second so every row is checked then
(a few hundred rows at most), otherwise only the workers a tick names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.text import Text

from celerytui.core.model import WORKER_LOST, WORKER_OFFLINE, Worker
from celerytui.text_safety import literal
from celerytui.widgets import chosen
from celerytui.widgets.ages import short_age
from celerytui.widgets.keyed_table import KeyedTable
from celerytui.widgets.worker_grid import natural_key

COLUMNS = (
    ("hostname", "Hostname"),
    ("status", "Status"),
    ("heartbeat", "Beat"),
    ("load", "Load"),
    ("active", "Act"),
    ("processed", "Done"),
    ("pool", "Pool"),
    ("queues", "Queues"),
)
FIXED = {"status": 7, "heartbeat": 5, "load": 14, "active": 4, "processed": 7, "pool": 4}
STATUS_STYLE = {WORKER_LOST: "bold red", WORKER_OFFLINE: "dim"}


def worker_values(worker: Worker, now: float) -> tuple[str, ...]:
    """What each column shows for ``worker`` at ``now``."""
    if worker.heartbeats_off:
        beat = "off"  # known from inspect stats: see the Workers screen's status line
    else:
        beat = short_age(now - worker.last_heartbeat) if worker.last_heartbeat else "-"
    load = " ".join(f"{x:.2f}" for x in worker.loadavg[:3]) if worker.loadavg else "-"
    pool = str(worker.pool_size) if worker.pool_size is not None else "?"
    queues = ",".join(worker.queues) if worker.queues is not None else "?"
    return (
        worker.hostname,
        worker.status,
        beat,
        load,
        str(worker.active),
        str(worker.processed),
        pool,
        queues,
    )


class WorkerTable(KeyedTable):
    """One row a worker, sorted lost first, then by name (w2 before w10)."""

    DEFAULT_CSS = """
    WorkerTable { height: 1fr; }
    """
    COLUMNS = COLUMNS

    class WorkerChosen(chosen.WorkerChosen):
        """Enter on a worker's row: open the worker."""

    def column_widths(self, space: int) -> dict[str, int]:
        free = space - sum(FIXED.values())
        host_w = max(10, free * 11 // 20)
        return {**FIXED, "hostname": host_w, "queues": max(6, free - host_w)}

    def show(
        self, workers: Mapping[str, Worker], now: float, changed: Iterable[str] | None
    ) -> None:
        """Sync rows; ``changed`` None checks every worker (first draw, ages moved)."""
        self._drop_missing(workers)
        targets = workers.keys() if changed is None else changed
        reorder = False
        for hostname in targets:
            worker = workers.get(hostname)
            if worker is None:
                continue
            moved = self._put_row(hostname, worker_values(worker, now), _worker_cell)
            reorder = reorder or 1 in moved  # a new row, or its status changed
        if reorder:
            self._order()

    def _order(self) -> None:
        selected = self.selected_hostname()
        rank = {WORKER_LOST: 0, WORKER_OFFLINE: 2}
        self.sort(
            "status",
            "hostname",
            key=lambda cells: (rank.get(cells[0].plain, 1), natural_key(cells[1].plain)),
        )
        if selected is not None:
            self._move_to(selected)

    def row_chosen(self, key: str) -> WorkerChosen:
        return self.WorkerChosen(key)

    def selected_hostname(self) -> str | None:
        return self.selected_key()


def _worker_cell(index: int, value: str) -> Text:
    cell = literal(value, max_len=200)
    if index == 1:
        cell.stylize(STATUS_STYLE.get(value, "green"))
    return cell
