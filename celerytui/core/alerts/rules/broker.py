"""Rules over the event lane's connection to the broker."""

from __future__ import annotations

from celerytui.core.alerts.registry import register
from celerytui.core.alerts.rule import Context, Finding, Rule


@register
class BrokerUnreachable(Rule):
    """The event lane lost the broker and is retrying."""

    name = "broker"
    kind = "periodic"
    watches = "the event lane's connection status"
    order = 70

    def evaluate(self, context: Context) -> list[Finding]:
        status = context.stream_status
        if status is None or status.connected or not status.attempts:
            return []
        return [
            Finding("broker", "critical", "broker unreachable, retrying", status.last_error or "")
        ]
