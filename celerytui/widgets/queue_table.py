"""Queues: depth (with the per-priority split when messages wait at several priorities),
consumers and a depth sparkline from the monitor's poll history. Keyed by queue name."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from celerytui.core.model import WORKER_ONLINE, Worker
from celerytui.text_safety import literal
from celerytui.widgets.sparkline_text import sparkline

COLUMNS = (("queue", "Queue"), ("messages", "Waiting"), ("priority", "By priority"),
           ("consumers", "Consumers"), ("trend", "Depth trend"))
FIXED = {"messages": 8, "consumers": 9}


def priority_split(by_priority: Mapping[int, int]) -> str:
    """``p0:3 p3:1`` for the priority steps that hold messages; "" when only one does."""
    busy = [(step, n) for step, n in sorted(by_priority.items()) if n]
    if len(busy) <= 1 and not any(step for step, _n in busy):
        return ""
    return " ".join(f"p{step}:{n}" for step, n in busy)


def consumers_of(name: str, depth: Any, workers: Mapping[str, Worker]) -> str:
    """The broker's consumer count (AMQP), else the online workers that say they consume it."""
    if getattr(depth, "consumers", None) is not None:
        return str(depth.consumers)
    known = [w for w in workers.values() if w.queues is not None]
    if not known:
        return "?"
    return str(sum(1 for w in known if w.status == WORKER_ONLINE and name in w.queues))


class QueueTable(DataTable):
    """One row a queue; the cursor row is the queue ``P`` purges."""

    DEFAULT_CSS = """
    QueueTable { height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self._rows: dict[str, tuple[str, ...]] = {}
        self.trend_width = 20

    def on_mount(self) -> None:
        for key, heading in COLUMNS:
            self.add_column(heading, key=key, width=FIXED.get(key, 10))
        self._fit_columns()

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        width = max(60, self.size.width or 80) - 2
        free = width - 2 * self.cell_padding * len(COLUMNS) - sum(FIXED.values())
        queue_w = max(10, free * 3 // 10)
        prio_w = max(8, free * 3 // 10)
        self.trend_width = max(6, free - queue_w - prio_w)
        widths = {**FIXED, "queue": queue_w, "priority": prio_w, "trend": self.trend_width}
        for key, column in self.columns.items():
            column.width = widths[str(key.value)]
            column.auto_width = False
        self.refresh()

    def show(self, depths: Iterable[Any], history: Mapping[str, Sequence[tuple[float, int]]],
             workers: Mapping[str, Worker]) -> None:
        """Sync rows with the newest depths (QueueDepth records)."""
        depths = list(depths)
        names = {d.name for d in depths}
        for name in [n for n in self._rows if n not in names]:
            self._rows.pop(name)
            with contextlib.suppress(RowDoesNotExist):
                self.remove_row(name)
        added = False
        for depth in depths:
            series = [n for _t, n in history.get(depth.name, ())]
            waiting = f"error: {depth.error}" if depth.error else f"{depth.messages:,}"
            values = (depth.name, waiting, priority_split(depth.by_priority or {}),
                      consumers_of(depth.name, depth, workers),
                      sparkline(series, self.trend_width) if series else "")
            old = self._rows.get(depth.name)
            if old == values:
                continue
            self._rows[depth.name] = values
            cells = [literal(v, max_len=200) for v in values]
            if depth.messages:
                cells[1].stylize("bold")
            if old is None:
                self.add_row(*cells, key=depth.name)
                added = True
                continue
            for i, (key, _h) in enumerate(COLUMNS):
                if values[i] != old[i]:
                    self.update_cell(depth.name, key, cells[i])
        if added:
            self.sort("queue", key=lambda cell: cell.plain)

    def selected_queue(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key
        except Exception:
            return None
        return str(key.value) if key.value is not None else None
