"""A DataTable whose rows are keyed (by uuid, hostname, queue name) and synced, not rebuilt.

Each row's shown plain values are kept beside the table, so a tick touches only what moved: a new
key adds a row, a changed value updates that one cell, a key that went away removes its row.
Column widths are fitted to the widget's width on mount and on every resize.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Container, Iterable
from typing import Any

from rich.text import Text
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets._data_table import Row
from textual.widgets.data_table import RowDoesNotExist, RowKey

CellOf = Callable[..., Text]  # (column index, plain value) -> the cell to show


class KeyedTable(DataTable):
    """Rows keyed by a string; subclasses name their columns and how wide each one is."""

    COLUMNS: tuple[tuple[str, str], ...] = ()  # (key, heading), in order

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        super().__init__(**kwargs)
        self._rows: dict[str, tuple[str, ...]] = {}  # key -> shown plain values

    # -- columns -----------------------------------------------------------------------------
    def column_widths(self, space: int) -> dict[str, int]:
        """Width of every column, given the ``space`` left for cell contents (the widget's
        width less the scrollbar and the cells' padding)."""
        raise NotImplementedError

    def on_mount(self) -> None:
        for key, heading in self.COLUMNS:
            self.add_column(heading, key=key, width=10)
        self._fit_columns()

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        width = max(60, self.size.width or 80) - 2  # the vertical scrollbar
        widths = self.column_widths(width - 2 * self.cell_padding * len(self.COLUMNS))
        for key, column in self.columns.items():
            column.width = widths[str(key.value)]
            column.auto_width = False
        self.refresh()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """DataTable (on idle) measures every cell of each new row, to widen auto-width
        columns and size auto-height rows. Here every column's width is fitted (auto width
        off) and every row is one line with no label, so that measuring (rich's measure,
        ~13 us a cell: 8 ms of the UI loop for the tail's 100 rows in a flood) changes
        nothing: only the scrollable size is recomputed."""
        if any(column.auto_width for column in self.columns.values()):
            super()._update_dimensions(new_rows)
        else:
            super()._update_dimensions(())

    # -- rows --------------------------------------------------------------------------------
    def _put_row(self, key: str, values: tuple[str, ...], cell_of: CellOf) -> range | list[int]:
        """Add the row for ``key`` or update the cells whose value changed; returns the indices
        of the columns that changed (all of them for a new row, none when nothing moved)."""
        old = self._rows.get(key)
        if old == values:
            return []
        self._rows[key] = values
        if old is None:
            self.add_row(*(cell_of(i, v) for i, v in enumerate(values)), key=key)
            return range(len(values))
        changed = [i for i, v in enumerate(values) if v != old[i]]
        for i in changed:
            self.update_cell(key, self.COLUMNS[i][0], cell_of(i, values[i]))
        return changed

    def _add_rows(self, rows: Iterable[tuple[str, tuple[str, ...]]], cell_of: CellOf) -> None:
        """Add new rows at the end, many at once (a rebuild of the tail): what
        ``DataTable.add_row`` does for each (textual 8.2), its cursor revalidation, repaint
        and idle check once for all instead of once a row (a third of a 100-row rebuild). A
        key already shown is updated in place instead."""
        columns = [column.key for column in self.ordered_columns]
        locations, data, meta, new = self._row_locations, self._data, self.rows, self._new_rows
        was_empty = not meta
        added = False
        for key, values in rows:
            if key in self._rows:
                self._put_row(key, values, cell_of)
                continue
            self._rows[key] = values
            row_key = RowKey(key)
            locations[row_key] = len(meta)
            cells = (cell_of(i, v) for i, v in enumerate(values))
            data[row_key] = dict(zip(columns, cells, strict=True))
            meta[row_key] = Row(row_key, 1)
            new.add(row_key)
            added = True
        if not added:
            return
        self._require_update_dimensions = True
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate  # clamped into the rows, repainted
        if was_empty and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()  # (add_row's: a cursor cell exists now)
        self.refresh()
        self.check_idle()

    def _drop(self, key: str) -> None:
        if self._rows.pop(key, None) is not None:
            with contextlib.suppress(RowDoesNotExist):
                self.remove_row(key)

    def _drop_missing(self, keep: Container[str]) -> None:
        """Remove every row whose key is not in ``keep``."""
        for key in [k for k in self._rows if k not in keep]:
            self._drop(key)

    def _move_to(self, key: str) -> None:
        with contextlib.suppress(RowDoesNotExist):
            self.move_cursor(row=self.get_row_index(key), animate=False)

    # -- choosing a row ----------------------------------------------------------------------
    def row_chosen(self, key: str) -> Message | None:
        """What enter (or a click) on the row ``key`` posts; None: nothing (the default)."""
        return None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            message = self.row_chosen(str(event.row_key.value))
            if message is not None:
                self.post_message(message)

    def selected_key(self) -> str | None:
        """The key of the cursor row (None on an empty table)."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        except Exception:
            return None
        return str(key.value) if key.value is not None else None
