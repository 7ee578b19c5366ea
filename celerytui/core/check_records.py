"""Turning results of the monitoring tasks into HttpCheck / DiskCheck records.

The checks panel needs UP/DOWN and disk % per target. Results come either in full from the
result backend or, with no backend, as the repr a task-succeeded event carries; both land here.
A user's own app may name its tasks `*.check_http_endpoint` / `*.check_disk_usage`, so we match
on the suffix.
"""

from __future__ import annotations

import ast
from collections.abc import MutableMapping
from typing import Any

from celerytui.cluster_spec import DISK_CHECK_TASK, HTTP_CHECK_TASK
from celerytui.core.model import DiskCheck, HttpCheck

HTTP_SUFFIX = HTTP_CHECK_TASK.rsplit(".", 1)[1]  # "check_http_endpoint"
DISK_SUFFIX = DISK_CHECK_TASK.rsplit(".", 1)[1]  # "check_disk_usage"
HTTP = "http"
DISK = "disk"
REPR_MAX = 10_000  # reprs longer than this are not parsed (cut by celery anyway)
CHECKS_KEPT = 500  # distinct URLs / hosts kept; the least recently checked go first
_TEXT_MAX = 2_000


def check_kind(name: object) -> str | None:
    """ "http" / "disk" for the monitoring tasks (by name suffix), else None."""
    if name.__class__ is not str:
        return None
    if name.endswith(HTTP_SUFFIX):
        return HTTP
    if name.endswith(DISK_SUFFIX):
        return DISK
    return None


def parse_repr(text: object) -> Any:
    """A Python literal from an event's repr, or None if it is not one (or too long)."""
    if text.__class__ is not str or len(text) >= REPR_MAX:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = value if value.__class__ is str else repr(value)
    return text[:_TEXT_MAX]


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("%"))
        except ValueError:
            return None
    return None


def _int(value: object) -> int | None:
    number = _number(value)
    if number is None or number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number)


def _evict(records: MutableMapping[str, Any]) -> None:
    while len(records) > CHECKS_KEPT:
        oldest = min(records, key=lambda k: records[k].checked_at or 0.0)
        del records[oldest]


def _target(result: Any, key: str) -> str | None:
    """What a check result is about (its "url" / "host"), cut; None if it names none."""
    if not isinstance(result, dict):
        return None
    target = result.get(key)
    if target.__class__ is not str or not target:
        return None
    return target[:_TEXT_MAX]


def _is_late(record: HttpCheck | DiskCheck, checked_at: float | None, task_id: str | None) -> bool:
    """An older check (of another task) arriving after the record's: the newer one stays."""
    return (
        record.checked_at is not None
        and checked_at is not None
        and checked_at < record.checked_at
        and record.task_id != task_id
    )


def record_http(
    checks: MutableMapping[str, HttpCheck],
    result: Any,
    checked_at: float | None,
    task_id: str | None,
) -> str | None:
    """Merge one check_http_endpoint result; returns the URL it updated, or None."""
    url = _target(result, "url")
    if url is None:
        return None
    status = str(result.get("status") or "DOWN").upper()[:16]
    response_time = _number(result.get("response_time"))
    record = checks.get(url)
    if record is None:
        record = checks[url] = HttpCheck(url=url, status=status)
    elif _is_late(record, checked_at, task_id):
        return None
    same_task = record.task_id is not None and record.task_id == task_id
    record.status, record.checked_at, record.task_id = status, checked_at, task_id
    record.status_code = _int(result.get("status_code"))
    record.response_time = response_time
    record.error = _text(result.get("error"))
    point = (checked_at, status == "UP", response_time)
    if same_task and record.history:
        record.history[-1] = point  # the full result replacing the event's repr
    else:
        record.history.append(point)
    _evict(checks)
    return url


def record_disk(
    checks: MutableMapping[str, DiskCheck],
    result: Any,
    checked_at: float | None,
    task_id: str | None,
) -> str | None:
    """Merge one check_disk_usage result; returns the host it updated, or None."""
    host = _target(result, "host")
    if host is None:
        return None
    record = checks.get(host)
    if record is None:
        record = checks[host] = DiskCheck(host=host)
    elif _is_late(record, checked_at, task_id):
        return None
    record.checked_at, record.task_id = checked_at, task_id
    record.status = str(result.get("status") or "ERROR").upper()[:16]
    record.mount = _text(result.get("mount"))
    record.filesystem = _text(result.get("filesystem"))
    record.size_bytes = _int(result.get("size_bytes"))
    record.used_bytes = _int(result.get("used_bytes"))
    record.avail_bytes = _int(result.get("avail_bytes"))
    record.use_percent = _number(result.get("use_percent"))
    record.error = _text(result.get("error"))
    _evict(checks)
    return host


def failed_check_result(
    kind: str, args: Any, kwargs: Any, exception: str | None
) -> dict[str, Any] | None:
    """A DOWN / ERROR result for a check task that raised, from its args (repr or decoded).

    A check that crashes must not leave the panel showing its last UP.
    """
    if args.__class__ is str:
        args = parse_repr(args)
    if kwargs.__class__ is str:
        kwargs = parse_repr(kwargs)
    key = "url" if kind == HTTP else "host"
    target = None
    if isinstance(kwargs, dict):
        target = kwargs.get(key)
    if target is None and isinstance(args, list | tuple) and args:
        target = args[0]
    if isinstance(target, dict):  # a host given as {"host": ..., "port": ...}
        target = target.get(key) or target.get("hostname")
    if target.__class__ is not str or not target:
        return None
    error = exception or "task failed"
    if kind == HTTP:
        return {"url": target, "status": "DOWN", "error": error}
    return {"host": target, "status": "ERROR", "error": error}
