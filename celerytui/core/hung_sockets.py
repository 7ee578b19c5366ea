"""A broker that keeps the socket open but answers nothing (hung, or stopped by SIGSTOP).

py-amqp ignores the ``socket_timeout`` transport option the Redis transport reads: its reads
block until the broker answers unless ``read_timeout`` / ``write_timeout`` are given
(``socket_deadlines``). And kombu's goodbyes (cancel, close channel, close connection) each
wait for an answer: once a connection is known to be hung, ``cut_socket`` shuts its socket so
that every one of them fails at once. Transports that read neither option ignore it.
"""

from __future__ import annotations

import socket
from contextlib import suppress
from typing import Any


def socket_deadlines(seconds: float) -> dict[str, float]:
    """Transport options that bound every read and write of an AMQP connection."""
    return {"read_timeout": seconds, "write_timeout": seconds}


def cut_socket(conn: Any) -> None:
    """Shut the socket of a kombu connection (if it has one open): reads on it end at once
    (EOF), writes fail. Never connects; never raises."""
    transport = getattr(getattr(conn, "_connection", None), "transport", None)
    sock = getattr(transport, "sock", None)
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
