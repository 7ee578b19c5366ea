"""Checks for each setting's value: convert what a TOML file, the environment or a flag gave,
or say in one line what was expected. Used by ``celerytui.config``; no secrets in messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

from celerytui.settings_model import DiskHost, TimeError, journal_store, parse_duration, parse_size
from celerytui.url_schemes import BACKEND_SCHEMES, BROKER_SCHEMES


class Invalid(Exception):
    """A value failed its check; ``path`` is a sub-key like ``[0].port`` to append to the key."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path


def _show(value: object) -> str:
    from celerytui.redaction import redact

    text = repr(redact(value)) if isinstance(value, str) else redact(repr(value))
    return text if len(text) <= 80 else text[:77] + "..."


def expected(what: str, value: object, note: str = "") -> Invalid:
    """The one message shape: ``expected a positive integer, got 'lots'``."""
    return Invalid(f"expected {what}, got {_show(value)}{note}")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise expected("an integer", value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(value.strip().replace("_", ""))
    except (AttributeError, ValueError):
        raise expected("an integer", value) from None


def _float(value: Any) -> float:
    if not isinstance(value, bool) and isinstance(value, int | float | str):
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if number == number and abs(number) != float("inf"):
            return number
    raise expected("a number", value)


def _ranged(convert: Callable[[Any], Any], what: str, ok: Callable[[Any], bool]):
    def check(value: Any) -> Any:
        number = convert(value)  # "expected an integer, got 'lots'" first, then the range
        if not ok(number):
            raise expected(what, value)
        return number

    return check


_positive_int = _ranged(_int, "a positive integer", lambda n: n > 0)
_count = _ranged(_int, "an integer >= 0", lambda n: n >= 0)
_positive_float = _ranged(_float, "a positive number", lambda n: n > 0)
_seconds = _ranged(_float, "a number of seconds >= 0", lambda n: n >= 0)
_port = _ranged(_int, "a port number 1-65535", lambda n: 1 <= n <= 65535)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise expected("a boolean (true/false, yes/no, 1/0)", value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise expected("a non-empty string", value)
    return value.strip()


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """None or "" (TOML has no null) clears the value."""
    return lambda value: None if value is None or value == "" else convert(value)


def _secret(value: Any) -> str:
    """A password: any non-empty string, never echoed back in the message."""
    if not isinstance(value, str) or not value:
        raise Invalid("expected a non-empty string (value not shown)")
    return value


def _path(value: Any) -> str:
    return os.path.expanduser(_text(value))


def _abs_path(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise expected("an absolute path like '/'", value)
    return value


_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?")


def _module(value: Any) -> str:
    if not isinstance(value, str) or not _MODULE.fullmatch(value.strip()):
        raise expected("a Python module like 'proj' or 'proj.celery:app'", value)
    return value.strip()


def _timezone(value: Any) -> str:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(_text(value))
    except Exception:
        raise expected("an IANA timezone like 'UTC' or 'Europe/Berlin'", value) from None
    return value.strip()


def _installed_schemes(kind: str) -> set[str]:
    """Schemes the installed kombu / celery know beyond ours (celerytui/url_schemes.py)."""
    try:
        if kind == "broker":
            from kombu.transport import TRANSPORT_ALIASES as aliases
        else:
            from celery.app.backends import BACKEND_ALIASES as aliases  # type: ignore[no-redef]
        return {name.lower() for name in aliases}
    except Exception:
        return set()


def _service_url(kind: str, known: frozenset[str], example: str, bare_ok: bool):
    def check(value: Any) -> str:
        from urllib.parse import urlsplit

        if not isinstance(value, str) or not value.strip():
            raise expected(f"a {kind} URL like {example}", value)
        value = value.strip()
        if bare_ok and value.lower() in known:
            return value  # celery accepts a bare alias: result_backend = "rpc"
        for part in filter(None, (p.strip() for p in value.split(";"))):  # failover lists
            scheme, sep, _ = part.partition("://")
            base = scheme.split("+", 1)[0].lower()
            if not sep or (base not in known and base not in _installed_schemes(kind)):
                note = f" (unknown scheme {_show(scheme)})" if sep else " (no scheme://)"
                raise expected(f"a {kind} URL like {example}", value, note)
            try:
                _ = urlsplit(part).port  # raises ValueError on a bad port
            except ValueError:
                raise expected(f"a {kind} URL with a valid host and port", value) from None
        return value

    return check


def _http_url(value: Any) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value.strip()) if isinstance(value, str) else None
        _ = parts and parts.port  # raises ValueError on a bad port
    except ValueError:
        parts = None
    if not parts or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise expected("an http:// or https:// URL", value)
    return value.strip()


def _url_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list | tuple):
        raise expected("a list of URLs", value)
    urls = []
    for index, item in enumerate(value):
        try:
            urls.append(_http_url(item))
        except Invalid as exc:
            raise Invalid(str(exc), f"[{index}]") from None
    return urls


_DISK_HOST_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": _text,
    "host": _optional(_text),
    "port": _port,
    "user": _text,
    "key_file": _optional(_path),
    "known_hosts": _optional(_path),
    "accept_unknown_host_key": _bool,
    "path": _abs_path,
    "timeout": _positive_float,
}


def _disk_host(value: Any) -> dict[str, Any]:
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise expected('a host table like {name = "web1", host = "10.0.0.5"}', value)
    if "name" not in value:
        raise Invalid("missing key 'name'")
    checked = {}
    for key, raw in value.items():
        if key not in _DISK_HOST_FIELDS:
            raise Invalid(unknown_key(key, _DISK_HOST_FIELDS), f".{key}")
        try:
            checked[key] = _DISK_HOST_FIELDS[key](raw)
        except Invalid as exc:
            raise Invalid(str(exc), f".{key}") from None
    return checked


def _disk_hosts(value: Any) -> list[Any]:
    if isinstance(value, str):  # env: JSON, or just comma-separated names
        import json

        if value.lstrip().startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                raise expected('a JSON list like [{"name": "web1"}]', value) from None
        else:
            value = [name.strip() for name in value.split(",") if name.strip()]
    if not isinstance(value, list | tuple):
        raise expected('a list of host tables like [{"name": "web1"}]', value)
    hosts: list[DiskHost] = []
    for index, item in enumerate(value):
        try:
            host = DiskHost(**_disk_host(item))
        except Invalid as exc:
            raise Invalid(str(exc), f"[{index}]{exc.path}") from None
        if any(other.name == host.name for other in hosts):
            raise Invalid(f"duplicate host name {host.name!r}", f"[{index}].name")
        hosts.append(host)
    return hosts


def _journal(convert: Callable[[Any], Any], what: str = "") -> Callable[[Any], Any]:
    """A journal setting's check: its reader's TimeError as the one-line Invalid."""

    def check(value: Any) -> Any:
        try:
            return convert(value)
        except TimeError as exc:
            raise expected(what or str(exc), value) from None

    return check


def _duration(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise TimeError("a duration")
    return parse_duration(value)


def _size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if not isinstance(value, str):
        raise TimeError("a size")
    size = parse_size(value)
    if size <= 0:
        raise TimeError("a size")
    return size


def _keymap(value: Any) -> dict[str, str]:
    """A ``[keymap]`` table of binding id -> keys ("ctrl+r" or "r,f5"); from env, JSON."""
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError:
            raise expected('a JSON object like {"fire-http": "ctrl+h"}', value) from None
    if not isinstance(value, Mapping):
        raise expected('a table of binding id = "key", like fire-http = "ctrl+h"', value)
    keymap: dict[str, str] = {}
    for ident, keys in value.items():
        if not isinstance(keys, str) or not keys.strip():
            raise Invalid(str(expected('a key like "ctrl+h" or "r,f5"', keys)), f".{ident}")
        keymap[str(ident).strip()] = keys.strip()
    return keymap


FIELD_CHECKS: dict[str, Callable[[Any], Any]] = {
    "broker_url": _service_url("broker", BROKER_SCHEMES, "redis://host:6379/0", False),
    "result_backend": _service_url("result backend", BACKEND_SCHEMES, "redis://host:6379/1", True),
    "app": _optional(_module),
    "read_only": _bool,
    "max_tasks": _positive_int,
    "http_targets": _url_list,
    "disk_hosts": _disk_hosts,
    "alert_webhook": _optional(_http_url),
    "alert_timeout": _positive_float,
    "alert_webhooks": _url_list,
    "alert_resend": _positive_float,
    "timezone": _optional(_timezone),
    "email_delay": _seconds,
    "retry_base": _seconds,
    "http_timeout": _positive_float,
    "result_expires": _count,
    "worker_metrics_port": _optional(_port),
    "worker_timeout": _positive_float,
    "worker_purge": _positive_float,
    "cluster_name": _text,
    # signed task messages (celerytui/signing.py)
    "signed": _bool,
    "security_key": _optional(_path),
    "security_key_password": _optional(_secret),
    "security_certificate": _optional(_path),
    "security_cert_store": _optional(_path),
    "store": _optional(_journal(journal_store)),
    "record": _bool,
    "retention": _journal(_duration, "a duration like 48h, 90m or seconds"),
    "max_size": _journal(_size, "a size like 1GB or 500MB"),
    "theme": _optional(_text),  # the name is checked against Textual's themes at start-up
    "keymap": _keymap,  # ids and keys are checked against the bindings at start-up
}
THRESHOLD_CHECKS: dict[str, Callable[[Any], Any]] = {
    "queue_backlog": _positive_int,
    "failure_rate": _ranged(_float, "a fraction between 0 and 1", lambda n: 0 < n <= 1),
    "failure_window": _positive_float,
    "disk_percent": _ranged(_float, "a percentage between 0 and 100", lambda n: 0 < n <= 100),
    "min_finished_for_rate": _count,
    "stuck_factor": _positive_float,
    "stuck_floor": _positive_float,
    "beat_grace": _positive_float,
    "beat_grace_share": _ranged(_float, "a fraction between 0 and 1", lambda n: 0 < n <= 1),
    "beat_late": _positive_float,
    "queue_oldest": _positive_float,
}


def unknown_key(key: object, known: Mapping[str, Any]) -> str:
    """ "unknown key", with the closest known key when a typo is likely."""
    import difflib

    close = difflib.get_close_matches(str(key), list(known), n=1)
    return "unknown key" + (f", did you mean {close[0]!r}?" if close else "")
