"""The canvas headers of one task message as kombu's Redis transport stores it.

A queue is a Redis list of JSON messages (``{"body": ..., "headers": {...}, "properties":
{...}}``); a message delivered and not yet acked is a field of the ``unacked`` hash whose value
is ``[message, exchange, routing_key]``. Celery's protocol 2 puts ``id``, ``task``, ``group``,
``group_index``, ``root_id`` and ``parent_id`` in the headers. Anything else (protocol 1,
garbage, a value of the wrong type, an id too long to be one) is refused as ``None``: the
values are cluster text, kept as inert strings, never interpreted.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

MAX_ID = 255  # longer than any task or group id a client makes: refused, not shown
MAX_NAME = 512


class MessageHeaders(NamedTuple):
    """What a message says of its task's place in a canvas."""

    id: str
    task: str | None
    group: str | None
    group_index: int | None
    root_id: str | None
    parent_id: str | None


def _id(value: Any, limit: int = MAX_ID) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def headers_of(message: Any) -> MessageHeaders | None:
    """The canvas headers of a decoded message dict, or None when it has no usable task id."""
    if not isinstance(message, dict):
        return None
    headers = message.get("headers")
    if not isinstance(headers, dict):
        return None
    task_id = _id(headers.get("id"))
    if task_id is None:
        return None
    index = headers.get("group_index")
    return MessageHeaders(
        id=task_id,
        task=_id(headers.get("task"), MAX_NAME),
        group=_id(headers.get("group")),
        group_index=index if type(index) is int and 0 <= index < 1 << 31 else None,
        root_id=_id(headers.get("root_id")),
        parent_id=_id(headers.get("parent_id")),
    )


def _loads(raw: Any) -> Any:
    if isinstance(raw, bytes | bytearray):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def queued_headers(raw: Any) -> MessageHeaders | None:
    """Headers of one entry of a queue's list (bytes of JSON)."""
    return headers_of(_loads(raw))


def unacked_headers(raw: Any) -> MessageHeaders | None:
    """Headers of one value of the ``unacked`` hash (JSON ``[message, exchange, key]``)."""
    value = _loads(raw)
    if not isinstance(value, list) or not value:
        return None
    return headers_of(value[0])
