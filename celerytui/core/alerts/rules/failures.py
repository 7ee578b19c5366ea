"""Rules over finished tasks: each failure, exhausted retries, the failure rate."""

from __future__ import annotations

from celerytui.core.alerts.registry import register
from celerytui.core.alerts.rule import Context, Finding, Rule
from celerytui.core.model import FAILURE


@register
class TaskFailures(Rule):
    """A task failed (and, when it had retried, its retries are exhausted): one alert per task
    name, counting the failures; quiet for ``failure_window`` seconds, it clears."""

    name = "task-failed"  # also raises "retries-exhausted:<task name>"
    kind = "event"
    watches = "task-failed events"
    settings = ("failure_window",)
    order = 10

    def evaluate(self, context: Context) -> list[Finding]:
        if context.changes is None:
            return []
        found: list[Finding] = []
        for uuid in context.changes.new_failures:
            task = context.state.tasks.get(uuid)
            if task is None or task.state != FAILURE:
                continue
            name = task.name or "unknown task"
            exc = (task.exception or "").strip()
            found.append(
                Finding(f"task-failed:{name}", "error", f"{name} failed", exc, subject=name)
            )
            if task.retries:
                found.append(
                    Finding(
                        f"retries-exhausted:{name}",
                        "error",
                        f"{name}: retries exhausted after {task.retries}",
                        exc,
                        subject=name,
                    )
                )
        return found


@register
class FailureRate(Rule):
    """More than ``failure_rate`` of the tasks finished in the window failed (once at least
    ``min_finished_for_rate`` finished)."""

    name = "failure-rate"
    kind = "periodic"
    watches = "succeeded and failed counts over the failure window"
    settings = ("failure_rate", "failure_window", "min_finished_for_rate")
    order = 40

    def evaluate(self, context: Context) -> list[Finding]:
        t = context.thresholds
        window = context.state.throughput(seconds=max(1, int(t.failure_window)))
        failed = sum(window.get("failed", ()))
        finished = failed + sum(window.get("succeeded", ()))
        if finished < t.min_finished_for_rate or failed / finished <= t.failure_rate:
            return []
        return [
            Finding(
                "failure-rate",
                "warning",
                f"failure rate {failed / finished:.0%} over {t.failure_window:.0f}s",
                f"{failed} of {finished} finished tasks failed",
            )
        ]
