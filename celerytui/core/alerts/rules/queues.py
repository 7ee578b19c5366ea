"""Rules over queue depths."""

from __future__ import annotations

from celerytui.core.alerts.registry import register
from celerytui.core.alerts.rule import Context, Finding, Rule


@register
class QueueBacklog(Rule):
    """A queue holds more than ``queue_backlog`` messages (a depth the broker could not give
    never counts)."""

    name = "queue-backlog"
    kind = "periodic"
    watches = "queue depths from the broker"
    settings = ("queue_backlog",)
    order = 30
    in_status = True

    def evaluate(self, context: Context) -> list[Finding]:
        backlog = context.thresholds.queue_backlog
        found: list[Finding] = []
        for depth in context.queue_depths:
            messages = getattr(depth, "messages", None)
            if getattr(depth, "error", None) is not None or messages is None:
                continue
            if messages > backlog:
                found.append(
                    Finding(
                        f"queue-backlog:{depth.name}",
                        "warning",
                        f"queue {depth.name}: {messages} waiting",
                        f"over the threshold of {backlog}",
                        subject=depth.name,
                        problem=f"queue {depth.name} holds {messages} messages "
                        f"(threshold {backlog})",
                    )
                )
        return found
