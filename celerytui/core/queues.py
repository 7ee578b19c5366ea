"""Queue depths: how many messages wait in each queue, and which queues exist.

Redis: a queue is a list per priority step (kombu keys ``name`` and ``name\\x06\\x16<step>``,
under the broker's ``global_keyprefix``), so the depth is the sum of their LLENs and the split is
kept. AMQP (and other transports): a passive ``queue_declare`` answers message and consumer
counts; a missing queue is reported on its row, not raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from typing import Any

from celery import Celery

from celerytui.core.broker_errors import bounded_connection
from celerytui.redaction import one_line


class QueueError(Exception):
    """The broker could not be asked at all (unreachable, refused). One line, no secrets."""


@dataclass(slots=True)
class QueueDepth:
    name: str
    messages: int = 0
    consumers: int | None = None  # None where the broker does not know (Redis)
    by_priority: dict[int, int] = field(default_factory=dict)  # Redis: priority step -> count
    error: str | None = None  # e.g. the queue does not exist (AMQP)


class QueueInspector:
    """Asks the broker for queue depths; every call bounded by ``timeout``."""

    def __init__(self, app: Celery, timeout: float = 1.0) -> None:
        self.app = app
        self.timeout = timeout

    def _connection(self) -> AbstractContextManager[Any]:
        return bounded_connection(self.app, self.timeout, write=False, error=QueueError)

    def depths(self, names: Iterable[str]) -> list[QueueDepth]:
        """One QueueDepth per name, in order. Raises QueueError when the broker is unreachable."""
        names = list(dict.fromkeys(names))
        with self._connection() as conn:
            try:
                if conn.transport.driver_type == "redis":
                    return self._redis_depths(conn, names)
                return [self._declare_depth(conn, name) for name in names]
            except QueueError:
                raise
            except Exception as exc:
                raise QueueError(f"queue depths: {one_line(exc)}") from None

    def _redis_depths(self, conn: Any, names: list[str]) -> list[QueueDepth]:
        channel = conn.default_channel
        steps = sorted(set(channel.priority_steps))
        with channel.conn_or_acquire() as client, client.pipeline() as pipe:
            # the client adds global_keyprefix to every key itself
            for name in names:
                for step in steps:
                    pipe.llen(channel._q_for_pri(name, step))
            sizes = pipe.execute()
        out = []
        for i, name in enumerate(names):
            row = sizes[i * len(steps):(i + 1) * len(steps)]
            split = {step: int(n) for step, n in zip(steps, row, strict=True)}
            out.append(QueueDepth(name, messages=sum(split.values()), by_priority=split))
        return out

    def _declare_depth(self, conn: Any, name: str) -> QueueDepth:
        channel = conn.channel()
        try:
            _, messages, consumers = channel.queue_declare(queue=name, passive=True)
        except conn.connection_errors as exc:
            raise QueueError(f"queue depths: {one_line(exc)}") from None
        except Exception as exc:  # channel error: the queue does not exist (404)
            return QueueDepth(name, messages=0, error=one_line(exc))
        finally:
            with suppress(Exception):
                channel.close()
        amqp = conn.transport.driver_type == "amqp"
        return QueueDepth(name, messages=int(messages),
                          consumers=int(consumers) if amqp else None)

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
    return name.endswith(".celery.pidbox") or name.endswith("celeryev") or \
        name.startswith("celeryev.")

