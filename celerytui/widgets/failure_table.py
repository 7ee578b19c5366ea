"""Failed and retried tasks, newest first, with the exception and the traceback's last line.

Keyed by uuid over ClusterState's bounded ``failures`` ring: rows are added, updated cell by
cell and removed as the ring moves; nothing is rebuilt per tick.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from celerytui.core.model import Task
from celerytui.text_safety import literal
from celerytui.widgets.task_table import SortCell
from celerytui.widgets.task_tail import STATE_COLOUR, short_name

COLUMNS = (("time", "Time"), ("state", "State"), ("name", "Task"), ("worker", "Worker"),
           ("exception", "Exception"), ("where", "Last traceback line"))
FIXED = {"time": 8, "state": 7}


def last_traceback_line(traceback: str | None) -> str:
    """The last non-blank line of a traceback (usually the exception itself), or ""."""
    for line in reversed((traceback or "").splitlines()):
        if line.strip():
            return line.strip()
    return ""


def failure_time(task: Task) -> float:
    return task.failed or task.retried or task.timestamp or task.date_done or 0.0


class FailureTable(DataTable):
    """The failures ring, newest first; enter opens the task with its full traceback."""

    DEFAULT_CSS = """
    FailureTable { height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self._rows: dict[str, tuple[str, ...]] = {}
        self._colours: dict[str, str] = {}

    def on_mount(self) -> None:
        for key, heading in COLUMNS:
            self.add_column(heading, key=key, width=FIXED.get(key, 10))
        self._fit_columns()

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        width = max(60, self.size.width or 80) - 2
        free = width - 2 * self.cell_padding * len(COLUMNS) - sum(FIXED.values())
        name_w = max(10, free * 4 // 15)
        worker_w = max(8, free * 2 // 15)
        exc_w = max(10, free * 5 // 15)
        widths = {**FIXED, "name": name_w, "worker": worker_w, "exception": exc_w,
                  "where": max(8, free - name_w - worker_w - exc_w)}
        for key, column in self.columns.items():
            column.width = widths[str(key.value)]
            column.auto_width = False
        self.refresh()

    @staticmethod
    def values_of(task: Task, fmt_time: Callable[[float | None], str]) -> tuple[str, ...]:
        return (fmt_time(failure_time(task)), task.state, short_name(task.name),
                task.worker or "", task.exception or "", last_traceback_line(task.traceback))

    def _style_for(self, state: str) -> str:
        """The theme's colour for a state ($error for FAILURE, $warning for RETRY)."""
        if not self._colours:
            variables = self.app.get_css_variables()
            self._colours = {k: variables.get(v, "") for k, v in STATE_COLOUR.items()}
        return self._colours.get(state, "")

    def _cells(self, task: Task, values: tuple[str, ...]) -> list[Text]:
        cells = [literal(v, max_len=300) for v in values]
        cells[1].stylize(self._style_for(values[1]))
        time_cell = SortCell(cells[0].plain, no_wrap=True, end="")
        time_cell.sort_value = (failure_time(task), task.seq)
        cells[0] = time_cell
        return cells

    def states(self) -> list[str]:
        """The state shown on each row (FAILURE / RETRY / ...)."""
        return [row[1] for row in self._rows.values()]

    def shows(self, uuids: Iterable[str]) -> bool:
        """Whether any of ``uuids`` has a row here."""
        rows = self._rows
        return any(uuid in rows for uuid in uuids)

    def show(self, tasks: Mapping[str, Task], failures: Iterable[str],
             fmt_time: Callable[[float | None], str]) -> None:
        """Sync the rows with the ring (newest last in ``failures``)."""
        wanted: dict[str, Task] = {}
        for uuid in reversed(list(failures)):
            task = tasks.get(uuid)
            if task is not None and uuid not in wanted:
                wanted[uuid] = task
        selected = self.selected_uuid()
        for uuid in [u for u in self._rows if u not in wanted]:
            self._rows.pop(uuid)
            with contextlib.suppress(RowDoesNotExist):
                self.remove_row(uuid)
        added = False
        for uuid, task in wanted.items():
            values = self.values_of(task, fmt_time)
            old = self._rows.get(uuid)
            if old is None:
                self.add_row(*self._cells(task, values), key=uuid)
                added = True
            elif old != values:
                added = added or old[0] != values[0]
                cells = self._cells(task, values)
                for i, (key, _h) in enumerate(COLUMNS):
                    if values[i] != old[i]:
                        self.update_cell(uuid, key, cells[i])
            self._rows[uuid] = values
        if added:  # or a time moved: reorder, newest first
            self.sort("time", key=lambda cell: cell.sort_value, reverse=True)
            if selected is not None and selected in self._rows:
                with contextlib.suppress(RowDoesNotExist):
                    self.move_cursor(row=self.get_row_index(selected), animate=False)

    def selected_uuid(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key
        except Exception:
            return None
        return str(key.value) if key.value is not None else None
