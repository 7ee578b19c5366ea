"""Rule over how long tasks wait: the oldest task sent to a queue and not yet received
(core/queue_wait.py, from events) has waited longer than ``queue_oldest``."""

from __future__ import annotations

from celerytui.core.alerts.registry import register
from celerytui.core.alerts.rule import Context, Finding, Rule


@register
class QueueOldest(Rule):
    """A queue's oldest waiting task is older than the threshold; clears when it is taken."""

    name = "queue-oldest"
    kind = "periodic"
    watches = "task-sent events without a task-received, per queue"
    settings = ("queue_oldest",)
    order = 31

    def evaluate(self, context: Context) -> list[Finding]:
        waits = context.queue_waits
        if waits is None or not waits.known:
            return []
        limit = context.thresholds.queue_oldest
        found: list[Finding] = []
        for queue, wait in waits.queues.items():
            age = wait.age(context.now)
            if age <= limit:
                continue
            shown = queue or "(no queue)"
            found.append(
                Finding(
                    f"queue-oldest:{queue}",
                    "warning",
                    f"queue {shown}: oldest task waiting {age:.0f}s",
                    f"{wait.waiting} sent, not received; over the threshold of {limit:.0f}s",
                    subject=queue,
                    labels={
                        "queue_name": queue,
                        "oldest_seconds": f"{age:.0f}",
                        "waiting": str(wait.waiting),
                        "uuid": wait.oldest_uuid,
                    },
                )
            )
        return found
