"""Workers as a table: status, heartbeat age, load, active, processed, pool, queues.

Keyed by hostname, updated cell by cell; ages move once a second so every row is checked then
(a few hundred rows at most), otherwise only the workers a tick names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from celerytui.core.model import WORKER_LOST, WORKER_OFFLINE, Worker
from celerytui.text_safety import literal
from celerytui.widgets.ages import short_age
from celerytui.widgets.worker_grid import natural_key

COLUMNS = (("hostname", "Hostname"), ("status", "Status"), ("heartbeat", "Beat"),
           ("load", "Load"), ("active", "Act"), ("processed", "Done"), ("pool", "Pool"),
           ("queues", "Queues"))
FIXED = {"status": 7, "heartbeat": 5, "load": 14, "active": 4, "processed": 7, "pool": 4}
STATUS_STYLE = {WORKER_LOST: "bold red", WORKER_OFFLINE: "dim"}

def worker_values(worker: Worker, now: float) -> tuple[str, ...]:
    """What each column shows for ``worker`` at ``now``."""
    beat = short_age(now - worker.last_heartbeat) if worker.last_heartbeat else "-"
    load = " ".join(f"{x:.2f}" for x in worker.loadavg[:3]) if worker.loadavg else "-"
    pool = str(worker.pool_size) if worker.pool_size is not None else "?"
    queues = ",".join(worker.queues) if worker.queues is not None else "?"
    return (worker.hostname, worker.status, beat, load, str(worker.active),
            str(worker.processed), pool, queues)

class WorkerTable(DataTable):
    """One row a worker, sorted lost first, then by name (w2 before w10)."""

    DEFAULT_CSS = """
    WorkerTable { height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self._rows: dict[str, tuple[str, ...]] = {}

    def on_mount(self) -> None:
        for key, heading in COLUMNS:
            self.add_column(heading, key=key, width=FIXED.get(key, 10))
        self._fit_columns()

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        width = max(60, self.size.width or 80) - 2
        free = width - 2 * self.cell_padding * len(COLUMNS) - sum(FIXED.values())
        host_w = max(10, free * 11 // 20)
        widths = {**FIXED, "hostname": host_w, "queues": max(6, free - host_w)}
        for key, column in self.columns.items():
            column.width = widths[str(key.value)]
            column.auto_width = False
        self.refresh()

    def show(self, workers: Mapping[str, Worker], now: float,
             changed: Iterable[str] | None) -> None:
        """Sync rows; ``changed`` None checks every worker (first draw, ages moved)."""
        for hostname in [h for h in self._rows if h not in workers]:
            self._rows.pop(hostname)
            with contextlib.suppress(RowDoesNotExist):
                self.remove_row(hostname)
        targets = workers.keys() if changed is None else changed
        added = False
        for hostname in targets:
            worker = workers.get(hostname)
            if worker is None:
                continue
            values = worker_values(worker, now)
            old = self._rows.get(hostname)
            if old == values:
                continue
            self._rows[hostname] = values
            cells = [literal(v, max_len=200) for v in values]
            cells[1].stylize(STATUS_STYLE.get(values[1], "green"))
            if old is None:
                self.add_row(*cells, key=hostname)
                added = True
                continue
            for i, (key, _h) in enumerate(COLUMNS):
                if values[i] != old[i]:
                    self.update_cell(hostname, key, cells[i])
            added = added or old[1] != values[1]
        if added:
            self._order()

    def _order(self) -> None:
        selected = self.selected_hostname()
        rank = {WORKER_LOST: 0, WORKER_OFFLINE: 2}
        self.sort("status", "hostname",
                  key=lambda cells: (rank.get(cells[0].plain, 1), natural_key(cells[1].plain)))
        if selected is not None:
            with contextlib.suppress(RowDoesNotExist):
                self.move_cursor(row=self.get_row_index(selected), animate=False)

    def selected_hostname(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key
        except Exception:
            return None
        return str(key.value) if key.value is not None else None

FormatAge = Callable[[float | None], str]
