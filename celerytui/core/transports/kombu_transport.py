"""Any broker kombu has a transport for (the registry's last resort): kombu's event lane, and
queue depths by a passive ``queue_declare``."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from celerytui.core.queue_depth import QueueDepth, QueueError
from celerytui.core.transports.base import EventLane, LaneHost, ResultHost, ResultReceiver
from celerytui.redaction import one_line
from celerytui.url_schemes import BROKER_SCHEMES_BY_TRANSPORT


class KombuTransport:
    name = "kombu"
    schemes = BROKER_SCHEMES_BY_TRANSPORT["kombu"]

    def supports(self, url: str) -> bool:
        return True  # whatever kombu accepts; it says so itself when it does not

    def lane_name(self, url: str, fast: bool) -> str:
        return "kombu"

    def make_lane(self, host: LaneHost, lane: str) -> EventLane:
        from celerytui.core.transports.kombu_lane import KombuEventLane

        return KombuEventLane(host)

    def queue_depths(self, conn: Any, names: list[str]) -> list[QueueDepth]:
        return [declare_depth(conn, name, consumers=False) for name in names]

    def pushes_results(self, backend_url: str) -> bool:
        return False

    def result_receiver(self, host: ResultHost) -> ResultReceiver:
        raise NotImplementedError("no pushed results: ResultWatcher polls")


def declare_depth(conn: Any, name: str, *, consumers: bool) -> QueueDepth:
    """A passive ``queue_declare``: messages (and consumers, where the broker counts them); a
    queue that does not exist (channel error, e.g. 404) is reported on its row."""
    channel = conn.channel()
    try:
        _, messages, count = channel.queue_declare(queue=name, passive=True)
    except conn.connection_errors as exc:
        raise QueueError(f"queue depths: {one_line(exc)}") from None
    except Exception as exc:  # channel error: the queue does not exist (404)
        return QueueDepth(name, messages=0, error=one_line(exc))
    finally:
        with suppress(Exception):
            channel.close()
    return QueueDepth(name, messages=int(messages), consumers=int(count) if consumers else None)
