"""The Tasks screen's table: a bounded window of the newest tasks that match a filter.

The filter reaches every task ClusterState keeps (``rescan`` walks them all, once, when the
filter changes); on a tick only the changed tasks are tested. Rows are keyed by uuid and
updated cell by cell, new ones added, evicted ones removed — never cleared and rebuilt per
tick. Sorting reorders the same rows (each cell carries its raw sort value).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rich.text import Text

from celerytui.core.filters import TaskPredicate, compile_filter
from celerytui.core.model import Task
from celerytui.text_safety import escaped_cut
from celerytui.widgets import chosen
from celerytui.widgets.keyed_table import KeyedTable
from celerytui.widgets.task_tail import StateStyles, arrived, short_name

WINDOW_ROWS = 500
REBUILD_AFTER = 32  # rows to drop in one tick past which the window is rebuilt instead
# key, heading, sort value of a Task
COLUMNS: tuple[tuple[str, str, Callable[[Task], Any]], ...] = (
    ("time", "Time", lambda t: t.seq),  # arrival order: a tail that does not reshuffle
    ("state", "State", lambda t: t.state),
    ("name", "Task", lambda t: t.name or ""),
    ("worker", "Worker", lambda t: t.worker or ""),
    ("args", "Args", lambda t: args_text(t)),
    ("runtime", "Runtime", lambda t: t.runtime if t.runtime is not None else -1.0),
    ("retries", "Rt", lambda t: t.retries),
)
COLUMN_KEYS = tuple(key for key, _h, _f in COLUMNS)
FIXED_WIDTHS = {"time": 8, "state": 8, "runtime": 7, "retries": 2}

FormatTime = Callable[[float | None], str]


class SortCell(Text):
    """A literal cell that remembers the raw value to sort by."""

    sort_value: Any = None


def args_text(task: Task) -> str:
    """Args and kwargs as one string (kwargs only when there are any)."""
    args = task.args or ""
    if task.kwargs and task.kwargs not in ("{}", "None"):
        return f"{args} {task.kwargs}" if args else task.kwargs
    return args


def format_runtime(runtime: float | None) -> str:
    if runtime is None:
        return ""
    return f"{runtime:.3f}s" if runtime < 10 else f"{runtime:.1f}s"


class TaskTable(StateStyles, KeyedTable):
    """The newest ``WINDOW_ROWS`` matching tasks; the cursor row is the selected task."""

    DEFAULT_CSS = """
    TaskTable { height: 1fr; }
    """
    COLUMNS = tuple((key, heading) for key, heading, _f in COLUMNS)

    class TaskChosen(chosen.TaskChosen):
        """Enter on a task's row: open the task."""

    def __init__(self, window: int = WINDOW_ROWS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = window
        self.predicate: TaskPredicate = compile_filter("")
        self.matching = 0  # tasks matching at the last rescan, plus those seen since
        self.sort_column = "time"
        self.sort_reverse = False
        self.follow = True
        self._seq: dict[str, int] = {}  # uuid -> Task.seq, to know the oldest shown

    # -- columns -----------------------------------------------------------------------------
    def column_widths(self, space: int) -> dict[str, int]:
        free = space - sum(FIXED_WIDTHS.values())
        name_w = max(10, free * 9 // 20)
        worker_w = max(8, free // 4)
        return {
            **FIXED_WIDTHS,
            "name": name_w,
            "worker": worker_w,
            "args": max(6, free - name_w - worker_w),
        }

    # -- cells ------------------------------------------------------------------------------
    @staticmethod
    def values_of(task: Task, fmt_time: FormatTime) -> tuple[str, ...]:
        """What each column shows for ``task``, as plain strings."""
        return (
            fmt_time(arrived(task)),
            task.state,
            short_name(task.name),
            task.worker or "",
            args_text(task),
            format_runtime(task.runtime),
            str(task.retries) if task.retries else "",
        )

    def _cell(self, task: Task, index: int, value: str) -> SortCell:
        cell = SortCell(escaped_cut(value, 300), no_wrap=True, end="")
        cell.sort_value = COLUMNS[index][2](task)
        if index == 1:
            cell.stylize(self._style_for(value))
        if index == 0:
            cell.sort_value = (cell.sort_value, task.seq)
        return cell

    def _add(self, task: Task, fmt_time: FormatTime) -> None:
        self._seq[task.uuid] = task.seq
        self._put_row(
            task.uuid, self.values_of(task, fmt_time), lambda i, v: self._cell(task, i, v)
        )

    def _drop(self, uuid: str) -> None:
        self._seq.pop(uuid, None)
        super()._drop(uuid)

    # -- filter, sort, follow -----------------------------------------------------------------
    def set_filter(self, expr: str, tasks: dict[str, Task], fmt_time: FormatTime) -> None:
        """Compile ``expr`` (FilterError propagates, the table unchanged) and rescan."""
        self.predicate = compile_filter(expr)
        self.rescan(tasks, fmt_time)

    def rescan(self, tasks: dict[str, Task], fmt_time: FormatTime) -> None:
        """Test every kept task; show the newest ``window`` that match."""
        match = self.predicate
        newest: list[Task] = []
        count = 0
        for task in reversed(tasks.values()):
            if match(task):
                count += 1
                if len(newest) < self.window:
                    newest.append(task)
        self.matching = count
        selected, on_newest = self._selection()
        newest.reverse()
        self._fill(newest, fmt_time)
        self._resort(selected, on_newest)

    def cycle_sort(self) -> str:
        """Next column to sort by; returns its key."""
        index = (COLUMN_KEYS.index(self.sort_column) + 1) % len(COLUMN_KEYS)
        self.sort_column = COLUMN_KEYS[index]
        self._resort(*self._selection())
        return self.sort_column

    def toggle_reverse(self) -> bool:
        self.sort_reverse = not self.sort_reverse
        self._resort(*self._selection())
        return self.sort_reverse

    def _selection(self) -> tuple[str | None, bool]:
        """The selected uuid, and whether it is the newest row (following keeps it there)."""
        selected = self.selected_uuid()
        return selected, selected is None or selected == self.newest_uuid()

    def newest_uuid(self) -> str | None:
        return max(self._seq, key=self._seq.__getitem__) if self._seq else None

    def _resort(self, keep: str | None, on_newest: bool) -> None:
        column = self.sort_column
        if column == "time":
            self.sort("time", key=lambda cell: cell.sort_value, reverse=self.sort_reverse)
        else:
            self.sort(
                column,
                "time",
                key=lambda cells: (cells[0].sort_value, cells[1].sort_value),
                reverse=self.sort_reverse,
            )
        if self.follow and on_newest:
            self.follow_newest()
        elif keep is not None:
            self._move_to(keep)

    def follow_newest(self) -> None:
        """Put the cursor on the newest row (it stays there while follow is on)."""
        newest = self.newest_uuid()
        if newest is not None:
            self._move_to(newest)

    # -- a tick ------------------------------------------------------------------------------
    def apply(
        self,
        tasks: Mapping[str, Task],
        changed: Iterable[str],
        removed: Iterable[str],
        fmt_time: FormatTime,
    ) -> None:
        """Apply one tick's changes: only ``changed`` tasks are tested against the filter."""
        match = self.predicate
        resort = False
        selected, on_newest = self._selection()
        for uuid in removed:
            if uuid in self._rows:
                self._drop(uuid)
        sort_index = COLUMN_KEYS.index(self.sort_column)
        fresh: list[Task] = []  # matching tasks without a row: added below, newest first
        for uuid in changed:
            task = tasks.get(uuid)
            if task is None:
                continue
            old = self._rows.get(uuid)
            if not match(task):
                if old is not None:
                    self._drop(uuid)
                    self.matching = max(0, self.matching - 1)
                continue
            if old is None:
                fresh.append(task)
                continue
            columns = self._put_row(
                uuid, self.values_of(task, fmt_time), lambda i, v, task=task: self._cell(task, i, v)
            )
            resort = resort or sort_index in columns
        if fresh:
            resort = self._admit(tasks, fresh, fmt_time) or resort
        if resort:
            self._resort(selected, on_newest)

    def _admit(self, tasks: Mapping[str, Task], fresh: list[Task], fmt_time: FormatTime) -> bool:
        """Add the newest of ``fresh`` so the table keeps the ``window`` newest matching rows;
        a burst larger than the window never adds rows only to drop them again."""
        self.matching += len(fresh)
        seqs = list(self._seq.values()) + [task.seq for task in fresh]
        threshold = heapq.nlargest(self.window, seqs)[-1] if len(seqs) > self.window else -1
        stale = [u for u, seq in self._seq.items() if seq < threshold]
        admitted = sorted((t for t in fresh if t.seq >= threshold), key=lambda t: t.seq)
        if len(stale) > REBUILD_AFTER:
            # DataTable.remove_row is O(rows) and moves the cursor each time (textual#5273):
            # past a few dozen, rebuilding the window once is far cheaper than dropping rows
            keep = [tasks[u] for u in self._seq if self._seq[u] >= threshold and u in tasks]
            self._fill(keep + admitted, fmt_time)
            return True
        for uuid in stale:
            self._drop(uuid)
        for task in admitted:
            self._add(task, fmt_time)
        return bool(admitted)

    def _fill(self, rows: list[Task], fmt_time: FormatTime) -> None:
        """Replace every row with ``rows`` (oldest first)."""
        self.clear()
        self._rows.clear()
        self._seq.clear()
        for task in rows:
            self._add(task, fmt_time)

    def row_chosen(self, key: str) -> TaskChosen:
        return self.TaskChosen(key)

    def selected_uuid(self) -> str | None:
        return self.selected_key()
