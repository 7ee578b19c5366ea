"""`record --durable-queue NAME` on AMQP: events wait in a named durable queue while the
recorder is down, and are recorded when it is back (as Leek does).

The queue is bound to the celeryev exchange (routing key `#`) and bounded so it can never
fill the broker: `x-max-length` messages (the oldest dropped first) and `x-message-ttl`.
Redis has no such thing: its pub/sub keeps nothing for a listener that is not there.
"""

from __future__ import annotations

from typing import Any

from celerytui.core.events import EventStream
from celerytui.core.journal.errors import JournalError
from celerytui.core.transports.base import EventLane
from celerytui.core.transports.lane_parts import AMQP_HEARTBEAT

MAX_LENGTH = 1_000_000  # messages (a task.multi message holds several events)
MESSAGE_TTL = 24 * 3600.0  # seconds


class DurableEventStream(EventStream):
    """The live EventStream, consuming a named durable queue instead of celery's
    auto-deleted one. AMQP brokers only (JournalError otherwise)."""

    def __init__(
        self,
        app: Any,
        queue_name: str,
        *,
        max_length: int = MAX_LENGTH,
        message_ttl: float = MESSAGE_TTL,
        **options: Any,
    ) -> None:
        super().__init__(app, fast_redis=False, **options)
        if self.transport.name != "amqp":
            raise JournalError(
                f"--durable-queue needs an AMQP broker (RabbitMQ), not {self.transport.name}: "
                "Redis pub/sub keeps nothing for a listener that is not there"
            )
        self.queue_name = queue_name
        self.max_length = max_length
        self.message_ttl = message_ttl

    def durable_queue(self, receiver: Any) -> Any:
        from kombu import Queue

        return Queue(  # type: ignore[no-untyped-call]
            self.queue_name,
            exchange=receiver.exchange,
            routing_key="#",
            durable=True,
            auto_delete=False,
            max_length=self.max_length,
            message_ttl=self.message_ttl,
        )

    def _make_lane(self) -> EventLane:
        from celerytui.core.transports.kombu_lane import KombuEventLane

        beat = self.app.conf.broker_heartbeat
        return KombuEventLane(
            self,
            heartbeat=min(beat, AMQP_HEARTBEAT) if beat else AMQP_HEARTBEAT,
            queue=self.durable_queue,
        )
