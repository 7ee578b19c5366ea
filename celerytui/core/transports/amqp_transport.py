"""RabbitMQ and other AMQP brokers: kombu's event lane with heartbeats (a hung broker is
noticed by two missed ones), and queue depths with consumer counts by ``queue_declare``."""

from __future__ import annotations

from typing import Any

from celerytui.core.queue_depth import QueueDepth
from celerytui.core.transports.base import EventLane, LaneHost, ResultHost, ResultReceiver
from celerytui.core.transports.kombu_transport import declare_depth
from celerytui.core.transports.lane_parts import AMQP_HEARTBEAT
from celerytui.url_schemes import BROKER_SCHEMES_BY_TRANSPORT, scheme_of


class AmqpTransport:
    name = "amqp"
    schemes = BROKER_SCHEMES_BY_TRANSPORT["amqp"]

    def supports(self, url: str) -> bool:
        return scheme_of(url) in self.schemes

    def lane_name(self, url: str, fast: bool) -> str:
        return "kombu"

    def make_lane(self, host: LaneHost, lane: str) -> EventLane:
        from celerytui.core.transports.kombu_lane import KombuEventLane

        beat = host.app.conf.broker_heartbeat
        return KombuEventLane(host, heartbeat=min(beat, AMQP_HEARTBEAT) if beat else AMQP_HEARTBEAT)

    def queue_depths(self, conn: Any, names: list[str]) -> list[QueueDepth]:
        return [declare_depth(conn, name, consumers=True) for name in names]

    def pushes_results(self, backend_url: str) -> bool:
        return False

    def result_receiver(self, host: ResultHost) -> ResultReceiver:
        raise NotImplementedError("no pushed results: ResultWatcher polls")
