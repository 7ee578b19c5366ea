"""What ClusterState's handler mixins (state_events.py, state_workers.py) use of the state.

The mixins are typed against this Protocol, not against ClusterState, so no handler module
imports state.py: state.py imports them, and they import only this and the helper modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from celerytui.core.model import Changes, DiskCheck, HttpCheck, Task, Worker
from celerytui.core.series_caps import SeriesCaps
from celerytui.core.state_lost import LostTasks
from celerytui.core.task_stats import RuntimeHistogram, SecondRing, TaskStats

LabelSet = tuple[str, str, str]


class StateParts(Protocol):
    """The attributes and steps of ClusterState its handlers read and call."""

    tasks: dict[str, Task]
    workers: dict[str, Worker]
    http_checks: dict[str, HttpCheck]
    disk_checks: dict[str, DiskCheck]
    max_workers: int
    series: SeriesCaps
    lost: LostTasks
    clock: Callable[[], float]
    _ch: Changes
    _worker_rings: dict[str, SecondRing]
    _by_state: dict[str, int]
    _stats: dict[str, TaskStats]
    _ring: SecondRing
    _ring_second: int
    _ring_slot: int
    runtime_hist: dict[LabelSet, RuntimeHistogram]
    _check_kinds: dict[str, str | None]

    def _times(self, ev: dict[str, Any]) -> tuple[float, float]: ...

    def _task(
        self, ev: dict[str, Any], worker_side: bool = True
    ) -> tuple[Task, float, float, str | None]: ...

    def _new_task(self, uuid: str) -> Task: ...

    def _new_worker(self, hostname: str, lr: float) -> Worker: ...

    def _evict_worker(self, keep: str) -> None: ...

    def _set_name(self, task: Task, name: object) -> None: ...

    def _set_ids(self, task: Task, ev: dict[str, Any]) -> None: ...

    def _transition(
        self, task: Task, new: str, ts: float | None, host: str | None, force: bool = False
    ) -> bool: ...

    def _record(
        self,
        task: Task,
        ts: float,
        lr: float,
        kind: str,
        counter: str | None,
        hostname: object,
        row: int | None,
    ) -> LabelSet: ...

    def _seen(self, hostname: Any, lr: float) -> str | None: ...

    def _merge_received(
        self, task: Task, ev: dict[str, Any], ts: float, host: str | None
    ) -> bool: ...

    def _note_failure(self, uuid: str, new: str) -> None: ...

    def _on_timeline(self, task: Task, ts: float, kind: str) -> None: ...

    def _count(
        self, task: Task, lr: float, counter: str, hostname: object, row: int | None
    ) -> LabelSet: ...

    def _check_kind(self, name: object) -> str | None: ...

    def _processed(self, hostname: str | None, lr: float) -> None: ...

    def _stats_for(self, name: str) -> TaskStats: ...

    def _count_exception(self, task: Task, labels: LabelSet) -> None: ...

    def _record_check(self, kind: str, result: Any, when: float | None, task_id: str) -> None: ...
