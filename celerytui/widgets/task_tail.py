"""A live tail of the newest tasks: a bounded DataTable, newest at the bottom, keyed by uuid.

Rows are added as tasks are first seen, updated cell by cell only when a shown value changes,
and the oldest are dropped past ``TAIL_ROWS`` — never cleared and rebuilt on a tick.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from celerytui.core.model import Task
from celerytui.text_safety import literal

TAIL_ROWS = 100
REBUILD_AT = TAIL_ROWS // 4  # this many new rows in one go: rebuild, not remove one by one
COLUMNS = ("time", "state", "task", "id", "worker", "args")
STATE_COLOUR = {"SUCCESS": "success", "FAILURE": "error", "RETRY": "warning",
                "REVOKED": "warning", "REJECTED": "error", "STARTED": "accent",
                "RECEIVED": "secondary"}


def short_name(name: str | None) -> str:
    """The last two dotted parts: ``celerytui.tasks.send_email`` -> ``tasks.send_email``."""
    if not name:
        return "?"
    parts = name.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else name


def short_host(hostname: str | None) -> str:
    return hostname or ""


class TaskTail(DataTable):
    """The newest tasks; the cursor row is "the selected task" for R and enter."""

    DEFAULT_CSS = """
    TaskTail { height: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._rows: dict[str, tuple[str, ...]] = {}  # uuid -> shown plain values
        self._colours: dict[str, str] = {}
        self.follow = True  # keep the newest row in view unless the user moved up

    def on_mount(self) -> None:
        for key in COLUMNS:
            self.add_column(key.capitalize() if key != "id" else "ID", key=key, width=8)
        self._fit_columns()

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        width = max(60, self.size.width or 80) - 2  # scrollbar
        padding = 2 * self.cell_padding * len(COLUMNS)
        fixed = {"time": 8, "state": 7, "id": 8}
        task_w = 18 if width < 120 else 34
        worker_w = 12 if width < 120 else 24
        args_w = max(8, width - padding - sum(fixed.values()) - task_w - worker_w)
        widths = {**fixed, "task": task_w, "worker": worker_w, "args": args_w}
        for key, column in self.columns.items():
            column.width = widths[str(key.value)]
            column.auto_width = False
        self.refresh()

    def _style_for(self, state: str) -> str:
        variable = STATE_COLOUR.get(state)
        if variable is None:
            return ""
        if not self._colours:
            variables = self.app.get_css_variables()
            self._colours = {k: variables.get(v, "") for k, v in STATE_COLOUR.items()}
        return self._colours.get(state, "")

    def _values(self, task: Task, fmt_time: Callable[[float | None], str]) -> tuple[str, ...]:
        return (fmt_time(task.timestamp or task.date_done), task.state, short_name(task.name),
                task.uuid[:8], short_host(task.worker), task.args or "")

    def _cells(self, values: tuple[str, ...]) -> list[Text]:
        cells = [literal(v, max_len=200) for v in values]
        cells[1].stylize(self._style_for(values[1]) or "")
        return cells

    def on_theme_changed(self) -> None:  # pragma: no cover - cosmetic
        self._colours = {}

    def show(self, tasks: Mapping[str, Task], changed: Iterable[str] | None,
             new: Iterable[str], removed: Iterable[str],
             fmt_time: Callable[[float | None], str]) -> None:
        """Apply a tick: ``changed`` None rebuilds from the newest tasks."""
        at_end = self.cursor_row >= self.row_count - 1
        selected = None if at_end else self.selected_uuid()
        if changed is None:
            self._rebuild(tasks, fmt_time)
        else:
            self._apply(tasks, set(changed), list(new), removed, fmt_time)
        if not self.row_count:
            return
        if self.follow and at_end:
            self.move_cursor(row=self.row_count - 1, animate=False)
        elif selected is not None and selected in self._rows:
            row = self.get_row_index(selected)
            if row != self.cursor_row:
                self.move_cursor(row=row, animate=False, scroll=False)

    def _rebuild(self, tasks: Mapping[str, Task], fmt_time) -> None:
        newest: list[Task] = []
        for task in reversed(tasks.values()):
            newest.append(task)
            if len(newest) >= TAIL_ROWS:
                break
        self.clear()
        self._rows.clear()
        for task in reversed(newest):
            values = self._values(task, fmt_time)
            self._rows[task.uuid] = values
            self.add_row(*self._cells(values), key=task.uuid)

    def _apply(self, tasks, changed: set[str], new: list[str], removed, fmt_time) -> None:
        if len(new) >= REBUILD_AT:
            # a flood: DataTable.remove_row is O(rows), so drop the whole window at once
            self._rebuild(tasks, fmt_time)
            return
        for uuid in removed:
            self._drop(uuid)
        for uuid in new[-TAIL_ROWS:]:
            task = tasks.get(uuid)
            if task is None or uuid in self._rows:
                continue
            values = self._values(task, fmt_time)
            self._rows[uuid] = values
            self.add_row(*self._cells(values), key=uuid)
        while len(self._rows) > TAIL_ROWS:
            self._drop(next(iter(self._rows)))
        for uuid in changed:
            old = self._rows.get(uuid)
            task = tasks.get(uuid)
            if old is None or task is None:
                continue
            values = self._values(task, fmt_time)
            if values == old:
                continue
            self._rows[uuid] = values
            cells = self._cells(values)
            for i, key in enumerate(COLUMNS):
                if values[i] != old[i]:
                    self.update_cell(uuid, key, cells[i])

    def _drop(self, uuid: str) -> None:
        if self._rows.pop(uuid, None) is not None:
            with contextlib.suppress(RowDoesNotExist):
                self.remove_row(uuid)

    def selected_uuid(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key
        except Exception:
            return None
        return str(key.value) if key.value is not None else None
