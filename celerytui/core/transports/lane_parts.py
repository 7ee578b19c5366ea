"""What every event lane shares: the timing constants, ``BrokerNotAnswering``, ``EventStamper``
and the app's read connection. Imported by EventStream and by each lane, so neither imports the
other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celerytui.core.hung_sockets import socket_deadlines

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.2  # seconds before the first reconnect attempt
BACKOFF_MAX = 5.0  # never wait longer than this between attempts
POLL_INTERVAL = 0.25  # how often the receiver looks at its stop flag while idle
CONNECT_TIMEOUT = 1.5  # a connect blocks the thread; stop() must still return within 2 s
SOCKET_TIMEOUT = 5.0  # a command (handshake, broadcast) that gets no answer fails after this
PING_EVERY = 2.0  # seconds of silence from the broker before a lane asks it something
HUNG_AFTER = 6.0  # seconds of silence, a question asked, after which the broker is down
AMQP_HEARTBEAT = 3.0  # AMQP lanes: two missed heartbeats (6 s) end the session
MAX_CLOCK = 2**62  # a Lamport clock past this is nonsense; ours is used instead


class BrokerNotAnswering(TimeoutError):
    """The broker keeps the connection open but answers nothing (hung, or stopped)."""

    def __init__(self) -> None:
        super().__init__(f"broker not answering for {HUNG_AFTER:g} s")


class EventStamper:
    """Decoded bodies -> the event dicts celery's EventReceiver hands a handler: task.multi
    lists flattened, the Lamport clock and ``local_received`` stamped, timestamps localized.

    Unlike ``EventReceiver.event_from_message`` it never raises. What every consumer relies on
    is checked: a dict with a string ``type``, a task event's ``uuid`` and a worker event's
    ``hostname`` non-empty strings; anything else is counted in ``malformed`` and skipped. A
    clock, timestamp or offset of the wrong type is left for ClusterState (which ignores it).
    """

    def __init__(self) -> None:
        self.clock = 0  # Lamport clock of what we have seen; only the receiver thread uses it
        self.malformed = 0

    def stamp(self, payload: Any, now: float, here: float) -> list[dict[str, Any]]:
        """``here`` is the local UTC offset in hours (celery's utcoffset()), once per batch."""
        events = payload if payload.__class__ is list else [payload]
        out = []
        clock = self.clock
        for event in events:
            # checks inlined: this runs for every event of a firehose
            kind = event.get("type") if event.__class__ is dict else None
            if kind.__class__ is not str:
                self.malformed += 1
                continue
            if kind.startswith("task-"):
                key = event.get("uuid")
            elif kind.startswith("worker-"):
                key = event.get("hostname")
            else:
                key = kind
            if key.__class__ is not str or not key:
                self.malformed += 1
                continue
            if kind == "task-sent":
                # clients never sync their clock, so theirs is not used (as celery does)
                sent_clock = event["clock"] = (clock or 1) - 1
                clock = max(clock, sent_clock) + 1
            else:
                other = event.get("clock")
                if other.__class__ is int and 0 <= other < MAX_CLOCK:
                    clock = max(clock, other) + 1
                else:
                    clock += 1
                    event["clock"] = clock
            offset = event.get("utcoffset")
            timestamp = event.get("timestamp")
            if offset is not None and timestamp is not None:
                try:  # noqa: SIM105 (suppress() costs 6x more, and this runs per event)
                    event["timestamp"] = timestamp - (offset - here) * 3600
                except (TypeError, ValueError, OverflowError):
                    pass  # not numbers: ClusterState falls back to local_received
            event["local_received"] = now
            out.append(event)
        self.clock = clock
        return out


def utcoffset_hours() -> float:
    from celery.utils.time import utcoffset

    return float(utcoffset())


def broker_url_of(app: Any) -> str:
    """The broker URL the app's connections use (as a string, possibly with a password)."""
    url = app.conf.broker_url or app.conf.broker_read_url
    if isinstance(url, (list, tuple)):
        url = ";".join(url)
    if not url:
        with app.connection_for_read() as conn:
            url = conn.as_uri(include_password=True)
    return str(url)


def receiver_connection(
    app: Any, socket_timeout: float | None = None, heartbeat: float | None = None
) -> Any:
    """The app's read connection, with connects bounded so that stop() stays prompt.

    ``socket_timeout`` (when given) bounds every command whatever the transport options say;
    ``heartbeat`` (AMQP) is asked for when given, to notice a hung broker."""
    options = dict(app.conf.broker_transport_options or {})
    options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT)  # redis transport
    options.setdefault("socket_timeout", SOCKET_TIMEOUT)  # a broker that accepts, then hangs
    for key, seconds in socket_deadlines(SOCKET_TIMEOUT).items():  # the same, for py-amqp
        options.setdefault(key, seconds)
    if socket_timeout is not None:
        options["socket_timeout"] = socket_timeout
    timeout = app.conf.broker_connection_timeout
    timeout = min(timeout, CONNECT_TIMEOUT) if timeout else CONNECT_TIMEOUT
    extra = {} if heartbeat is None else {"heartbeat": heartbeat}
    return app.connection_for_read(connect_timeout=timeout, transport_options=options, **extra)


def quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # closing a dead connection may fail; nothing to do
        log.debug("ignored error while closing", exc_info=True)
