"""Task messages still on a Redis broker, read for their canvas headers (canvas_headers.py).

Queued messages are the queues' lists (one per priority step); delivered-but-unacked ones
(reserved by a worker, or running under acks_late) are the ``unacked`` hash. Every read is
bounded: at most ``limit`` messages in all, on one connection whose socket times out after the
controller's timeout (broker_errors.bounded_connection). What was cut short is said in
``notes``. Other brokers cannot be read without taking the messages: ``readable`` is False.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from celery import Celery

from celerytui.core.broker_errors import bounded_connection
from celerytui.core.canvas_headers import MessageHeaders, queued_headers, unacked_headers
from celerytui.core.transports import transport_for
from celerytui.core.transports.lane_parts import broker_url_of
from celerytui.redaction import one_line

SCAN_LIMIT = 5000  # messages read at most, queues and unacked together
HSCAN_COUNT = 500


class BrokerReadError(Exception):
    """The broker could not be read (one line, no secrets)."""


@dataclass(slots=True)
class BrokerScan:
    queued: list[MessageHeaders] = field(default_factory=list)
    reserved: list[MessageHeaders] = field(default_factory=list)  # the unacked hash
    malformed: int = 0  # messages whose headers could not be read (protocol 1, garbage)
    notes: list[str] = field(default_factory=list)
    readable: bool = True  # False: a broker whose waiting messages cannot be listed


def broker_is_redis(app: Celery) -> bool:
    return transport_for(broker_url_of(app)).name == "redis"


def scan_broker(
    app: Celery,
    queues: list[str],
    *,
    timeout: float = 1.0,
    limit: int = SCAN_LIMIT,
    needle: str | None = None,
) -> BrokerScan:
    """The headers of the messages waiting in ``queues`` and of the unacked ones; with a
    ``needle`` (a group id JSON writes as itself), only of those whose raw bytes hold it."""
    scan = BrokerScan()
    if not broker_is_redis(app):
        scan.readable = False
        scan.notes.append(
            f"broker {transport_for(broker_url_of(app)).name}: queued and reserved members "
            "cannot be listed; only members with a stored result are known"
        )
        return scan
    with bounded_connection(app, timeout, write=False, error=BrokerReadError) as conn:
        try:
            _scan(conn.default_channel, queues, limit, scan, needle.encode() if needle else None)
        except BrokerReadError:
            raise
        except Exception as exc:
            raise BrokerReadError(f"broker read: {one_line(exc)}") from None
    return scan


def _scan(
    channel: Any, queues: list[str], limit: int, scan: BrokerScan, needle: bytes | None
) -> None:
    budget = limit
    steps = sorted(set(channel.priority_steps))
    with channel.conn_or_acquire() as client:
        # unacked first: reserved members are the ones about to run
        key = channel.unacked_key
        cursor: Any = 0
        while budget > 0:
            cursor, fields = client.hscan(key, cursor, count=min(HSCAN_COUNT, budget))
            for raw in list(fields.values())[:budget]:
                if _holds(raw, needle):
                    _add(unacked_headers(raw), scan.reserved, scan)
            budget -= min(len(fields), budget)
            if not int(cursor):
                break
        else:
            if int(cursor):
                scan.notes.append(f"first {limit} messages scanned (unacked not all read)")
        for name in queues:
            for step in steps:
                list_key = channel._q_for_pri(name, step)
                size = int(client.llen(list_key))
                if not size:
                    continue
                if budget <= 0:
                    scan.notes.append(f"first {limit} messages scanned (queue {name} not read)")
                    return
                # kombu LPUSHes and BRPOPs: the oldest message is at the right end
                for raw in client.lrange(list_key, -min(size, budget), -1):
                    if _holds(raw, needle):
                        _add(queued_headers(raw), scan.queued, scan)
                if size > budget:
                    scan.notes.append(f"first {limit} messages scanned (queue {name} cut)")
                    return
                budget -= size


def _holds(raw: Any, needle: bytes | None) -> bool:
    return needle is None or not isinstance(raw, bytes) or needle in raw


def _add(headers: MessageHeaders | None, into: list[MessageHeaders], scan: BrokerScan) -> None:
    if headers is None:
        scan.malformed += 1
    else:
        into.append(headers)
