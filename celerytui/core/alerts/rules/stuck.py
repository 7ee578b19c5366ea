"""Rule over running tasks: one STARTED far longer than its kind usually takes.

"Far longer" is its name's observed p99 runtime x ``stuck_factor``, never under
``stuck_floor`` seconds (a name with no runtimes seen yet gets the floor alone), or past its
soft time limit (`soft_limit_of`: the one the watched app declares for the task, else the
worker's own, which ``inspect stats`` reports) — a task past it ignored SoftTimeLimitExceeded
or is stuck where the signal cannot reach it. The running time is the monitor's now minus the
worker's task-started stamp moved onto the monitor's clock (`clock_offset_of`: the worker's
offset from its heartbeats), so a worker clock minutes off neither hides a stuck task nor
raises a false one. The task detail shows the same reason (`stuck_reason`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from celerytui.config import Thresholds
from celerytui.core.alerts.registry import register
from celerytui.core.alerts.rule import Context, Finding, Rule
from celerytui.core.model import STARTED, Task
from celerytui.core.task_stats import TaskStats

if TYPE_CHECKING:
    from celerytui.core.state import ClusterState

MAX_STUCK_ALERTS = 50  # a hung pool of hundreds: the oldest this many, one alert each


def span(seconds: float) -> str:
    """45s, 14m, 2h03m: how long, as a person says it."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7_200:
        return f"{seconds // 60}m"
    return f"{seconds // 3_600}h{seconds % 3_600 // 60:02d}m"


def stuck_reason(
    task: Task,
    stats: TaskStats | None,
    soft_limit: float | None,
    thresholds: Thresholds,
    now: float,
    clock_offset: float = 0.0,
) -> str | None:
    """Why `task` counts as stuck, in one line; None when it does not (or is not running).
    `clock_offset`: how far the monitor's clock is ahead of the task's worker's."""
    if task.state != STARTED or task.started is None:
        return None
    running = now - (task.started + clock_offset)
    if soft_limit is not None and soft_limit > 0 and running > soft_limit:
        return f"running {span(running)}, past its soft time limit of {span(soft_limit)}"
    floor, factor = thresholds.stuck_floor, thresholds.stuck_factor
    p99 = stats.p99 if stats is not None else None
    if p99 is not None and p99 * factor > floor:
        if running > p99 * factor:
            return (
                f"running {span(running)}, over {factor:g} x its p99 runtime of {p99:.1f}s "
                f"({len(stats.runtimes) if stats else 0} runs seen)"
            )
        return None
    if running > floor:
        seen = "no runs seen" if p99 is None else f"p99 {p99:.1f}s x {factor:g} is less"
        return f"running {span(running)}, over the {span(floor)} floor ({seen})"
    return None


def soft_limit_of(state: ClusterState, task: Task) -> float | None:
    """The soft time limit `task` runs under, as far as the monitor can know: the watched
    app's for its name (the task's own or task_soft_time_limit), else its worker's pool
    default (`--soft-time-limit`, from inspect stats). One passed per call is in no event."""
    limit = state.soft_time_limits.get(task.name or "")
    if limit is None and task.worker is not None:
        worker = state.workers.get(task.worker)
        limit = worker.soft_time_limit if worker is not None else None
    return limit


def clock_offset_of(state: ClusterState, task: Task) -> float:
    """How far the monitor's clock is ahead of `task`'s worker's (0 when not known)."""
    worker = state.workers.get(task.worker) if task.worker is not None else None
    offset = worker.clock_offset if worker is not None else None
    return offset if offset is not None else 0.0


@register
class TaskStuck(Rule):
    """stuck: NAME on WORKER for 14m, one alert per task; clears when it finishes (or is
    lost, or evicted)."""

    name = "task-stuck"
    kind = "periodic"
    watches = "STARTED tasks against their name's p99 runtime and soft time limit"
    settings = ("stuck_factor", "stuck_floor")
    order = 30

    def evaluate(self, context: Context) -> list[Finding]:
        state = context.state
        if not state.counts_by_state().get(STARTED):
            return []  # nothing running: no scan (this runs once a second)
        stats = state.task_stats()
        stuck: list[tuple[float, Task, str]] = []
        for task in state.tasks.values():
            if task.state != STARTED:
                continue
            name = task.name or "?"
            offset = clock_offset_of(state, task)
            why = stuck_reason(
                task,
                stats.get(name),
                soft_limit_of(state, task),
                context.thresholds,
                context.now,
                offset,
            )
            if why is not None:
                stuck.append(((task.started or 0.0) + offset, task, why))
        stuck.sort(key=lambda item: item[0])
        found = []
        for started, task, why in stuck[:MAX_STUCK_ALERTS]:
            name, worker = task.name or "?", task.worker or "?"
            found.append(
                Finding(
                    f"task-stuck:{task.uuid}",
                    "warning",
                    f"stuck: {name} on {worker} for {span(context.now - started)}",
                    why,
                    subject=task.uuid,
                    labels={"uuid": task.uuid, "name": name, "hostname": worker, "why": why},
                )
            )
        return found


def declared_soft_limits(app: object) -> dict[str, float]:
    """Task name -> the soft time limit the watched app declares for it (the task's own, else
    ``task_soft_time_limit``); a limit passed per call is not in any event, so not known."""
    try:
        default = app.conf.task_soft_time_limit  # type: ignore[attr-defined]
        tasks = list(app.tasks.items())  # type: ignore[attr-defined]
    except Exception:  # an app that cannot list its tasks: no limits known
        return {}
    out: dict[str, float] = {}
    for name, task in tasks:
        limit = getattr(task, "soft_time_limit", None) or default
        if isinstance(name, str) and isinstance(limit, int | float) and limit > 0:
            out[name] = float(limit)
    return out
