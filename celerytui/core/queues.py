"""Queue depths: how many messages wait in each queue, and which queues exist.

How a broker is asked is its transport's (core/transports/): Redis sums the LLENs of a queue's
priority lists (under the broker's ``global_keyprefix``) and keeps the split; AMQP (and other
transports) answer a passive ``queue_declare`` with message (and consumer) counts, a missing
queue reported on its row, not raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from celery import Celery

from celerytui.core.broker_errors import bounded_connection
from celerytui.core.queue_depth import QueueDepth, QueueError
from celerytui.core.transports import Transport, transport_for
from celerytui.core.transports.lane_parts import broker_url_of
from celerytui.redaction import one_line

__all__ = ["QueueDepth", "QueueError", "QueueInspector"]


class QueueInspector:
    """Asks the broker for queue depths; every call bounded by ``timeout``."""

    def __init__(self, app: Celery, timeout: float = 1.0) -> None:
        self.app = app
        self.timeout = timeout
        self._transport: Transport | None = None

    def _connection(self) -> AbstractContextManager[Any]:
        return bounded_connection(self.app, self.timeout, write=False, error=QueueError)

    def depths(self, names: Iterable[str]) -> list[QueueDepth]:
        """One QueueDepth per name, in order. Raises QueueError when the broker is unreachable."""
        names = list(dict.fromkeys(names))
        if self._transport is None:
            self._transport = transport_for(broker_url_of(self.app))
        with self._connection() as conn:
            try:
                return self._transport.queue_depths(conn, names)
            except QueueError:
                raise
            except Exception as exc:
                raise QueueError(f"queue depths: {one_line(exc)}") from None

    def known_queues(self, active_queues_replies: dict[str, Any] | None = None) -> list[str]:
        """The default queue, the configured task_queues and routes, and every queue a worker
        consumes from (``inspect active_queues`` replies: {hostname: [{"name": ...}, ...]})."""
        conf = self.app.conf
        names: list[str] = [conf.task_default_queue or "celery"]
        for queue in conf.task_queues or ():
            names.append(getattr(queue, "name", None) or str(queue))
        names.extend(_route_queues(conf.task_routes))
        for queues in (active_queues_replies or {}).values():
            for queue in queues or ():
                name = queue.get("name") if isinstance(queue, dict) else None
                if name:
                    names.append(name)
        return sorted({n for n in names if n and not _is_internal(n)})


def _route_queues(routes: Any) -> list[str]:
    """Queue names named in task_routes (a dict, or a list of dicts; router callables skipped)."""
    if routes is None:
        return []
    if isinstance(routes, dict):
        routes = [routes]
    out = []
    for table in routes if isinstance(routes, list | tuple) else ():
        if not isinstance(table, dict):
            continue
        for target in table.values():
            if isinstance(target, str):
                out.append(target)
            elif isinstance(target, dict) and target.get("queue"):
                queue = target["queue"]
                out.append(getattr(queue, "name", None) or str(queue))
    return out


def _is_internal(name: str) -> bool:
    """Celery's own reply / broadcast queues, which are not work queues."""
    return (
        name.endswith(".celery.pidbox") or name.endswith("celeryev") or name.startswith("celeryev.")
    )
