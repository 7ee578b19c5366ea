"""Brokers and result backends, one module per transport, and the registry that picks one.

A transport (``base.Transport``) says which broker URLs it reads (``supports``), builds the
event lanes EventStream runs (``lane_name`` / ``make_lane``), answers queue depths on an open
kombu connection (``queue_depths``) and says whether a result backend of its kind pushes
stored results (``pushes_results``), receiving them for ResultWatcher (``result_receiver``).
The first in ``TRANSPORTS`` that supports a URL wins; the generic kombu one is last and
supports every URL.

Adding a broker: a module here with a class like those below, its URL schemes in
``celerytui/url_schemes.py`` if kombu does not list them already, and an entry in
``TRANSPORTS`` before ``KombuTransport``. Importing this package loads no broker client.
"""

from __future__ import annotations

from celerytui.core.transports.amqp_transport import AmqpTransport
from celerytui.core.transports.base import (
    EventLane,
    LaneHost,
    ResultHost,
    ResultReceiver,
    Transport,
)
from celerytui.core.transports.kombu_transport import KombuTransport
from celerytui.core.transports.redis_transport import RedisTransport

TRANSPORTS: tuple[Transport, ...] = (RedisTransport(), AmqpTransport(), KombuTransport())

__all__ = [
    "TRANSPORTS",
    "EventLane",
    "LaneHost",
    "ResultHost",
    "ResultReceiver",
    "Transport",
    "pushes_results",
    "result_transport_for",
    "transport_for",
]


def transport_for(url: str) -> Transport:
    """The transport for a broker URL: the first in TRANSPORTS that supports it."""
    return next(t for t in TRANSPORTS if t.supports(url))


def result_transport_for(backend_url: object) -> Transport | None:
    """The transport whose result backend at this URL pushes stored results (ResultWatcher
    subscribes through its ``result_receiver``), or None: the watcher polls."""
    if not isinstance(backend_url, str):
        return None
    return next((t for t in TRANSPORTS if t.pushes_results(backend_url)), None)


def pushes_results(backend_url: object) -> bool:
    """Does this result backend URL push stored results (so ResultWatcher subscribes)?"""
    return result_transport_for(backend_url) is not None
