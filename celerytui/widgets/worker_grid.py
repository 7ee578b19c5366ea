"""The dashboard's workers: one pane each, compact (a line each) when they do not fit."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from textual.containers import VerticalScroll
from textual.widgets import Static

from celerytui.core.model import WORKER_LOST, WORKER_OFFLINE, Worker
from celerytui.widgets.worker_pane import WorkerPane

FULL_PANE_HEIGHT = 3
STATUS_RANK = {WORKER_LOST: 0, WORKER_OFFLINE: 2}


def natural_key(hostname: str) -> list:
    """w2 before w10: digits compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", hostname)]


class WorkerGrid(VerticalScroll):
    """Keyed panes: panes are added and removed as workers come and go, never rebuilt."""

    DEFAULT_CSS = """
    WorkerGrid { height: 1fr; }
    WorkerGrid > .empty { color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._panes: dict[str, WorkerPane] = {}
        self._order: list[str] = []
        self._empty: Static | None = None
        self._second = -1
        self._compact = False

    def on_mount(self) -> None:
        self._empty = Static("no workers seen yet", classes="empty")
        self.mount(self._empty)

    def show(self, workers: dict[str, Worker], series: Callable[[str], Sequence[int]],
             now: float, changed: set[str] | None) -> None:
        """Sync panes with ``workers``; ``changed`` None repaints all (ages move anyway)."""
        order = sorted(workers, key=lambda h: (STATUS_RANK.get(workers[h].status, 1),
                                               natural_key(h)))
        gone = [h for h in self._panes if h not in workers]
        for hostname in gone:
            self._panes.pop(hostname).remove()
        new = [h for h in order if h not in self._panes]
        if new:
            panes = [WorkerPane(h) for h in new]
            for pane in panes:
                self._panes[pane.hostname] = pane
            self.mount_all(panes)
        if self._empty is not None:
            self._empty.display = not workers
        if order != self._order:
            self._order = order
            rank = {h: i for i, h in enumerate(order)}
            self.sort_children(key=lambda w: rank.get(getattr(w, "hostname", None), -1))
        height = self.size.height or 10
        compact = len(workers) * FULL_PANE_HEIGHT > height
        second = int(now)
        if changed is None or new or second != self._second or compact != self._compact:
            targets = order  # ages tick once a second: repaint every pane then
        else:
            targets = [h for h in changed if h in self._panes]
        self._second, self._compact = second, compact
        for hostname in targets:
            self._panes[hostname].show(workers[hostname], series(hostname), now, compact)

    def on_resize(self) -> None:
        self._second = -1  # next show() repaints every pane at the new width
