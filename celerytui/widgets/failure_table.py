"""Failed and retried tasks, newest first, with the exception and the traceback's last line.

Keyed by uuid over ClusterState's bounded ``failures`` ring: rows are added, updated cell by
cell and removed as the ring moves; nothing is rebuilt per tick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from rich.text import Text

from celerytui.core.model import Task
from celerytui.text_safety import literal
from celerytui.widgets import chosen
from celerytui.widgets.keyed_table import KeyedTable
from celerytui.widgets.task_table import SortCell
from celerytui.widgets.task_tail import StateStyles, short_name

COLUMNS = (
    ("time", "Time"),
    ("state", "State"),
    ("name", "Task"),
    ("worker", "Worker"),
    ("exception", "Exception"),
    ("where", "Last traceback line"),
)
FIXED = {"time": 8, "state": 8}  # "REJECTED" whole (a refused message, e.g. unsigned)


def last_traceback_line(traceback: str | None) -> str:
    """The last non-blank line of a traceback (usually the exception itself), or ""."""
    for line in reversed((traceback or "").splitlines()):
        if line.strip():
            return line.strip()
    return ""


def failure_time(task: Task) -> float:
    return task.failed or task.retried or task.timestamp or task.date_done or 0.0


class FailureTable(StateStyles, KeyedTable):
    """The failures ring, newest first; enter opens the task with its full traceback."""

    DEFAULT_CSS = """
    FailureTable { height: 1fr; }
    """
    COLUMNS = COLUMNS

    class TaskChosen(chosen.TaskChosen):
        """Enter on a failure's row: open the task at its traceback."""

        at_traceback = True

    def column_widths(self, space: int) -> dict[str, int]:
        free = space - sum(FIXED.values())
        name_w = max(10, free * 4 // 15)
        worker_w = max(8, free * 2 // 15)
        exc_w = max(10, free * 5 // 15)
        return {
            **FIXED,
            "name": name_w,
            "worker": worker_w,
            "exception": exc_w,
            "where": max(8, free - name_w - worker_w - exc_w),
        }

    @staticmethod
    def values_of(task: Task, fmt_time: Callable[[float | None], str]) -> tuple[str, ...]:
        return (
            fmt_time(failure_time(task)),
            task.state,
            short_name(task.name),
            task.worker or "",
            task.exception or "",
            last_traceback_line(task.traceback),
        )

    def _cell(self, task: Task, index: int, value: str) -> Text:
        cell = literal(value, max_len=300)
        if index == 0:
            time_cell = SortCell(cell.plain, no_wrap=True, end="")
            time_cell.sort_value = (failure_time(task), task.seq)
            return time_cell
        if index == 1:
            cell.stylize(self._style_for(value))
        return cell

    def states(self) -> list[str]:
        """The state shown on each row (FAILURE / RETRY / ...)."""
        return [row[1] for row in self._rows.values()]

    def shows(self, uuids: Iterable[str]) -> bool:
        """Whether any of ``uuids`` has a row here."""
        rows = self._rows
        return any(uuid in rows for uuid in uuids)

    def show(
        self,
        tasks: Mapping[str, Task],
        failures: Iterable[str],
        fmt_time: Callable[[float | None], str],
    ) -> None:
        """Sync the rows with the ring (newest last in ``failures``)."""
        wanted: dict[str, Task] = {}
        for uuid in reversed(list(failures)):
            task = tasks.get(uuid)
            if task is not None and uuid not in wanted:
                wanted[uuid] = task
        selected = self.selected_uuid()
        self._drop_missing(wanted)
        reorder = False
        for uuid, task in wanted.items():
            changed = self._put_row(
                uuid, self.values_of(task, fmt_time), lambda i, v, task=task: self._cell(task, i, v)
            )
            reorder = reorder or 0 in changed  # a new row, or a time moved
        if reorder:  # newest first
            self.sort("time", key=lambda cell: cell.sort_value, reverse=True)
            if selected is not None and selected in self._rows:
                self._move_to(selected)

    def row_chosen(self, key: str) -> TaskChosen:
        return self.TaskChosen(key)

    def selected_uuid(self) -> str | None:
        return self.selected_key()
