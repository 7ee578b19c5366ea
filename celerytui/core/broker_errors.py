"""Broker connections that fail fast, and errors cut to one line without secrets.

Shared by the controller, the queue inspector, the result watcher and the headless commands: a
closed or dead broker must be reported within about the caller's timeout, as one line that never
shows a password from a URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from celerytui.config import redact

_URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]*:)[^@\s]+@")


def redact_urls(text: str) -> str:
    """Mask passwords in any URL inside an error message."""
    return _URL_PASSWORD.sub(r"\1****@", text)


def first_line(text: object, limit: int = 300) -> str:
    """The first line of ``text`` (stripped, at most ``limit`` characters), passwords in any URL
    masked; "" when there is no text."""
    text = str(text).strip()
    return redact_urls(text.splitlines()[0] if text else "")[:limit]


def one_line(exc: BaseException, *, with_type: bool = False, limit: int = 300) -> str:
    """An exception as one line without secrets: its message's first line (after
    ``TypeName: `` when ``with_type``), or the type's name when it has no message."""
    if not str(exc).strip():
        return type(exc).__name__
    if with_type:
        return first_line(f"{type(exc).__name__}: {exc}", limit)
    return first_line(exc, limit)


@contextmanager
def bounded_connection(app: Any, timeout: float, *, write: bool,
                       error: type[Exception]) -> Iterator[Any]:
    """A connected broker connection of ``app`` (closed on exit), or ``error`` with a one-line,
    redacted message within about ``timeout`` (at least 0.5 s) when the broker is unreachable.

    ``write`` picks the producer side (sends and broadcasts, whose socket also waits for the
    replies, so it gets a second more) over the consumer side."""
    budget = max(timeout, 0.5)
    connect = app.connection_for_write if write else app.connection_for_read
    conn = connect(
        connect_timeout=budget,
        transport_options={"socket_timeout": budget + 1 if write else budget,
                           "socket_connect_timeout": budget, "max_retries": 1},
    )
    try:
        try:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.1,
                                   interval_max=0.2, timeout=budget)
        except Exception as exc:
            raise error(f"broker unreachable ({redact(app.conf.broker_url)}): "
                        f"{one_line(exc)}") from None
        yield conn
    finally:
        with suppress(Exception):
            conn.close()
