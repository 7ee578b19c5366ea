"""Queues: depth (with the per-priority split when messages wait at several priorities),
how long the oldest task sent there has waited (from events: "?" when they cannot tell),
consumers and a depth sparkline from the monitor's poll history. Keyed by queue name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.text import Text

from celerytui.core.model import WORKER_ONLINE, Worker
from celerytui.core.queue_wait import QueueWaits
from celerytui.text_safety import literal
from celerytui.widgets.ages import short_age
from celerytui.widgets.keyed_table import KeyedTable
from celerytui.widgets.sparkline_text import sparkline

COLUMNS = (
    ("queue", "Queue"),
    ("messages", "Waiting"),
    ("oldest", "Oldest"),
    ("priority", "By priority"),
    ("consumers", "Consumers"),
    ("trend", "Depth trend"),
)
FIXED = {"messages": 8, "oldest": 7, "consumers": 9}


def priority_split(by_priority: Mapping[int, int]) -> str:
    """``p0:3 p3:1`` for the priority steps that hold messages; "" when only one does."""
    busy = [(step, n) for step, n in sorted(by_priority.items()) if n]
    if len(busy) <= 1 and not any(step for step, _n in busy):
        return ""
    return " ".join(f"p{step}:{n}" for step, n in busy)


def oldest_wait(name: str, waits: QueueWaits | None, now: float) -> str:
    """``4m`` the oldest task sent to the queue has waited; "-" when none waits; "?" when no
    task-sent event says."""
    if waits is None or not waits.known:
        return "?"
    wait = waits.queues.get(name)
    return short_age(wait.age(now)) if wait is not None else "-"


def consumers_of(name: str, depth: Any, workers: Mapping[str, Worker]) -> str:
    """The broker's consumer count (AMQP), else the online workers that say they consume it."""
    if getattr(depth, "consumers", None) is not None:
        return str(depth.consumers)
    known = [w for w in workers.values() if w.queues is not None]
    if not known:
        return "?"
    return str(sum(1 for w in known if w.status == WORKER_ONLINE and name in (w.queues or ())))


class QueueTable(KeyedTable):
    """One row a queue; the cursor row is the queue ``P`` purges."""

    DEFAULT_CSS = """
    QueueTable { height: 1fr; }
    """
    COLUMNS = COLUMNS

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.trend_width = 20

    def column_widths(self, space: int) -> dict[str, int]:
        free = space - sum(FIXED.values())
        queue_w = max(10, free * 3 // 10)
        prio_w = max(8, free * 3 // 10)
        self.trend_width = max(6, free - queue_w - prio_w)
        return {**FIXED, "queue": queue_w, "priority": prio_w, "trend": self.trend_width}

    def show(
        self,
        depths: Iterable[Any],
        history: Mapping[str, Sequence[tuple[float, int]]],
        workers: Mapping[str, Worker],
        waits: QueueWaits | None = None,
        now: float = 0.0,
    ) -> None:
        """Sync rows with the newest depths (QueueDepth records) and oldest waits."""
        depths = list(depths)
        self._drop_missing({d.name for d in depths})
        added = False
        for depth in depths:
            series = [n for _t, n in history.get(depth.name, ())]
            waiting = f"error: {depth.error}" if depth.error else f"{depth.messages:,}"
            values = (
                depth.name,
                waiting,
                oldest_wait(depth.name, waits, now),
                priority_split(depth.by_priority or {}),
                consumers_of(depth.name, depth, workers),
                sparkline(series, self.trend_width) if series else "",
            )
            bold = bool(depth.messages)
            changed = self._put_row(
                depth.name, values, lambda i, v, bold=bold: _queue_cell(i, v, bold)
            )
            added = added or 0 in changed  # the name column changes only on a new row
        if added:
            self.sort("queue", key=lambda cell: cell.plain)

    def selected_queue(self) -> str | None:
        return self.selected_key()


def _queue_cell(index: int, value: str, bold: bool) -> Text:
    cell = literal(value, max_len=200)
    if index in (1, 2) and bold:
        cell.stylize("bold")
    return cell
