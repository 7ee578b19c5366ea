"""Broker connections that fail fast, with one-line errors without secrets.

Shared by the controller, the queue inspector, the result watcher and the headless commands: a
closed or dead broker must be reported within about the caller's timeout, as one line that never
shows a password from a URL (``celerytui.redaction.one_line``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from celerytui.core.hung_sockets import cut_socket, socket_deadlines
from celerytui.core.short_lived import short_lived
from celerytui.redaction import one_line, redact, url_secrets


@contextmanager
def bounded_connection(
    app: Any, timeout: float, *, write: bool, error: type[Exception]
) -> Iterator[Any]:
    """A connected broker connection of ``app`` (closed on exit), or ``error`` with a one-line,
    redacted message within about ``timeout`` (at least 0.5 s) when the broker is unreachable.

    ``write`` picks the producer side (sends and broadcasts, whose socket also waits for the
    replies, so it gets a second more) over the consumer side."""
    with short_lived():  # the connection is garbage (cycles: kombu, redis-py) once closed
        budget = max(timeout, 0.5)
        connect = app.connection_for_write if write else app.connection_for_read
        socket_timeout = budget + 1 if write else budget
        conn = connect(
            connect_timeout=budget,
            transport_options={
                "socket_timeout": socket_timeout,
                **socket_deadlines(socket_timeout),  # py-amqp's names for it
                "socket_connect_timeout": budget,
                "max_retries": 1,
            },
        )
        try:
            try:
                conn.ensure_connection(
                    max_retries=1,
                    interval_start=0,
                    interval_step=0.1,
                    interval_max=0.2,
                    timeout=budget,
                )
            except Exception as exc:
                url = app.conf.broker_url
                raise error(
                    f"broker unreachable ({redact(url)}): {one_line(exc, secrets=url_secrets(url))}"
                ) from None
            try:
                yield conn
            except BaseException:
                # the caller gave up on this connection (a timeout, often): no goodbyes that
                # wait on a broker that may answer nothing
                cut_socket(conn)
                raise
        finally:
            with suppress(Exception):
                conn.close()
