"""A live tail of the newest tasks: a bounded DataTable, newest at the bottom, keyed by uuid.

Rows are added as tasks are first seen, updated cell by cell only when a shown value changes,
and the oldest are dropped past ``TAIL_ROWS`` — never cleared and rebuilt on a tick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text

from celerytui.core.model import Task
from celerytui.text_safety import literal
from celerytui.widgets import chosen
from celerytui.widgets.keyed_table import KeyedTable

TAIL_ROWS = 100
REBUILD_AT = TAIL_ROWS // 4  # this many new rows in one go: rebuild, not remove one by one
COLUMNS = ("time", "state", "task", "id", "worker", "args")
STATE_COLOUR = {
    "SUCCESS": "success",
    "FAILURE": "error",
    "RETRY": "warning",
    "REVOKED": "warning",
    "REJECTED": "error",
    "STARTED": "accent",
    "RECEIVED": "secondary",
    "LOST": "error",
}
# beyond the colour: LOST (its worker died holding it) stands out even without colours
STATE_EMPHASIS = {"LOST": "bold reverse"}


def short_name(name: str | None) -> str:
    """The last two dotted parts: ``celerytui.tasks.send_email`` -> ``tasks.send_email``."""
    if not name:
        return "?"
    parts = name.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else name


def arrived(task: Task) -> float | None:
    """When the task was first seen: sent, else received, else whatever we know. The one
    "Time" of a task in every table (the dashboard's tail and the Tasks screen), matching
    their row order (arrival)."""
    return task.sent or task.received or task.started or task.timestamp or task.date_done


def short_host(hostname: str | None) -> str:
    return hostname or ""


class StateStyles:
    """For the task tables: the theme's colour for a task state ($error for FAILURE, $warning
    for RETRY...), looked up once per widget."""

    _state_colours: dict[str, str] | None = None

    def _style_for(self, state: str) -> str:
        if not self._state_colours:
            variables = self.app.get_css_variables()  # type: ignore[attr-defined]
            self._state_colours = {
                k: f"{STATE_EMPHASIS.get(k, '')} {variables.get(v, '')}".strip()
                for k, v in STATE_COLOUR.items()
            }
        return self._state_colours.get(state, "")


class TaskTail(StateStyles, KeyedTable):
    """The newest tasks; the cursor row is "the selected task" for R and enter."""

    DEFAULT_CSS = """
    TaskTail { height: 1fr; }
    """
    COLUMNS = tuple((key, key.capitalize() if key != "id" else "ID") for key in COLUMNS)

    def __init__(self, **kwargs) -> None:
        super().__init__(zebra_stripes=False, **kwargs)
        self.follow = True  # keep the newest row in view unless the user moved up

    def column_widths(self, space: int) -> dict[str, int]:
        wide = space + 2 * self.cell_padding * len(COLUMNS) >= 120  # the width before padding
        fixed = {"time": 8, "state": 7, "id": 8}
        task_w = 34 if wide else 18
        worker_w = 24 if wide else 12
        args_w = max(8, space - sum(fixed.values()) - task_w - worker_w)
        return {**fixed, "task": task_w, "worker": worker_w, "args": args_w}

    def _values(self, task: Task, fmt_time: Callable[[float | None], str]) -> tuple[str, ...]:
        return (
            fmt_time(arrived(task)),
            task.state,
            short_name(task.name),
            task.uuid[:8],
            short_host(task.worker),
            task.args or "",
        )

    def _cell(self, index: int, value: str) -> Text:
        cell = literal(value, max_len=200)
        if index == 1:
            cell.stylize(self._style_for(value) or "")
        return cell

    def on_theme_changed(self) -> None:  # pragma: no cover - cosmetic
        self._state_colours = None

    def show(
        self,
        tasks: dict[str, Task],
        changed: Iterable[str] | None,
        new: Iterable[str],
        removed: Iterable[str],
        fmt_time: Callable[[float | None], str],
    ) -> None:
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

    def _rebuild(self, tasks: dict[str, Task], fmt_time) -> None:
        newest: list[Task] = []
        for task in reversed(tasks.values()):
            newest.append(task)
            if len(newest) >= TAIL_ROWS:
                break
        self.clear()
        self._rows.clear()
        self._add_rows(
            ((task.uuid, self._values(task, fmt_time)) for task in reversed(newest)), self._cell
        )

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
            self._put_row(uuid, self._values(task, fmt_time), self._cell)
        while len(self._rows) > TAIL_ROWS:
            self._drop(next(iter(self._rows)))
        for uuid in changed:  # rows shown already; a changed task without one stays out
            task = tasks.get(uuid)
            if task is not None and uuid in self._rows:
                self._put_row(uuid, self._values(task, fmt_time), self._cell)

    class TaskChosen(chosen.TaskChosen):
        """Enter on a task's row: open the task."""

    def row_chosen(self, key: str) -> TaskChosen:
        return self.TaskChosen(key)

    def selected_uuid(self) -> str | None:
        return self.selected_key()
