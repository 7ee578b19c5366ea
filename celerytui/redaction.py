"""Secrets out of everything celerytui prints or logs: the one place that masks them.

Broker and backend URLs carry passwords (``amqp://ops@example.com:PW@host//``), failover lists
carry several, query strings carry tokens (``?password=``, ``?token=``), and a webhook's path is
often its secret (a chat-ops hook). Every error line, status field, log record and screen goes
through this module. Pure and stdlib-only, so config, the core, the worker side, the commands
and the screens can all import it without cycles. No function here ever raises.

The rule for a URL ``scheme://USERINFO@host...``: the URL runs to the next whitespace or the
next ``scheme://`` (a ``;`` failover list, a list's repr); its userinfo ends at the LAST ``@``
in that run, so a user or a password holding ``@``, ``/``, ``;`` or ``%40`` is taken whole.
Everything after the first ``:`` of the userinfo is the password and is masked; the user is
kept (``ops@example.com:****@host``). When in doubt (an ``@`` later in the path) more is masked,
never less. A password that itself contains ``://`` is the one shape this cannot see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "****"

# A scheme that starts a URL (not the tail of a longer word: "xredis://" is not "redis://").
_SCHEME = r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://"
_URL = re.compile(rf"(?P<scheme>{_SCHEME})(?P<rest>(?:(?!{_SCHEME})\S)*)")
# ?password=..&token=..&api_key=.. (any key naming a credential); the value ends at the next
# separator, quote or whitespace.
_QUERY_SECRET = re.compile(
    r"(?i)(?P<head>[?&;][\w.\-]*(?:pass|pwd|secret|token|key|auth|sig|credential)[\w.\-]*=)"
    # the value, not one masked already (text redacted twice), nor a sentence's ":" "." ","
    r"(?!\*\*\*\*)[^&#;\s\"'<>]*[^&#;\s\"'<>:.,)\]]"
)
_CONTROL = {c: "?" for c in [*range(32), 127]}


def _mask_url(match: re.Match[str]) -> str:
    rest = match["rest"]
    at = rest.rfind("@")
    if at < 0:
        return match[0]
    user, colon, password = rest[:at].partition(":")
    userinfo = f"{user}:{MASK}" if password else user + colon
    return f"{match['scheme']}{userinfo}{rest[at:]}"


def redact_text(text: object) -> str:
    """``text`` with the password of every URL in it, and every credential in a query string,
    masked; everything else as it was (line breaks too). For free text: error messages,
    reprs, log lines."""
    try:
        text = _as_str(text)
        return _QUERY_SECRET.sub(rf"\g<head>{MASK}", _URL.sub(_mask_url, text))
    except Exception:
        return "<unprintable>"


def redact(url: object) -> str:
    """One URL, or a failover list (a ``;``-separated string, or kombu's list/tuple form), as
    it may be shown: passwords and query credentials masked (``redis://:****@host:6379/0``),
    control characters replaced by ``?`` so a URL can never break a line or a screen."""
    try:
        if url is None:
            return ""
        if isinstance(url, list | tuple):
            return ";".join(redact(item) for item in url)
        return redact_text(url).translate(_CONTROL)
    except Exception:
        return "<unprintable>"


def redact_webhook(url: object) -> str:
    """A webhook URL as it may be shown: ``scheme://host[:port]`` and ``/****`` when it has
    anything more. A hook's path and query are often its only secret (chat-ops tokens), and its
    userinfo is a password: neither is ever shown."""
    try:
        text = _as_str(url).strip()
        scheme, sep, rest = text.partition("://")
        if not sep:
            return MASK if text else ""
        netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
        host = netloc.rpartition("@")[2]
        if host.startswith("["):  # [IPv6]:port
            name, _, port = host[1:].partition("]")
            name, port = f"[{name}]", port.removeprefix(":")
        else:
            name, _, port = host.partition(":")
        shown = f"{scheme}://{name}" + (f":{port}" if port.isdigit() else "")
        hidden = rest[len(netloc) :].strip("/")
        return (shown + "/" + MASK if hidden else shown).translate(_CONTROL)
    except Exception:
        return "<unprintable>"


def url_secrets(url: object) -> list[str]:
    """The passwords in ``url`` (one URL, a failover list, or kombu's list form) as an error
    may quote them without their URL: whole, percent-decoded, and in the pieces a parser may
    cut them into (urllib reads ``redis://:ab/cd@h`` as host "" and port "ab", and says so).
    For ``one_line(exc, secrets=url_secrets(url))`` where a URL failed to parse."""
    try:
        from urllib.parse import unquote

        if isinstance(url, list | tuple):
            return sorted({s for item in url for s in url_secrets(item)}, key=len, reverse=True)
        found: set[str] = set()
        for match in _URL.finditer(_as_str(url)):
            password = match["rest"][: max(match["rest"].rfind("@"), 0)].partition(":")[2]
            for coded in (password, unquote(password)):
                found.add(coded)
                found |= {piece for piece in re.split(r"[/?#@:;]", coded) if len(piece) >= 3}
        return sorted((s for s in found if s), key=len, reverse=True)
    except Exception:
        return []


def webhook_secrets(url: object) -> list[str]:
    """The parts of a webhook URL an error message may quote and that must be cut out of it
    (``one_line(exc, secrets=webhook_secrets(url))``): the URL, what follows its host (HTTP
    libraries print ``url: /hooks/T0KEN``), plain and percent-coded, and each path segment or
    query value of 4 characters or more. Longest first, so no part is left half-replaced."""
    try:
        from urllib.parse import quote, unquote

        text = _as_str(url).strip()
        rest = text.partition("://")[2] or text
        netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
        tail = rest[len(netloc) :]
        parts = {text, tail, tail.lstrip("/"), netloc.rpartition("@")[0]}
        parts |= {
            piece
            for coded in (tail, unquote(tail))
            for piece in re.split(r"[/?#&=;]", coded)
            if len(piece) >= 4
        }
        parts |= {variant for part in list(parts) for variant in (unquote(part), quote(part))}
        return sorted((p for p in parts if p), key=len, reverse=True)
    except Exception:
        return []


def one_line(
    value: object, *, with_type: bool = False, limit: int = 300, secrets: Iterable[str] = ()
) -> str:
    """An exception or a text as one line without secrets, for an error message, a status
    field or a log record: the first line (an exception's message; its type's name when it has
    none, or ``TypeName: message`` with ``with_type``), each of ``secrets`` replaced by
    ``****``, URL passwords and query credentials masked, then cut to ``limit`` characters
    (after masking, so a cut can never reveal half a password)."""
    try:
        if isinstance(value, BaseException):
            name = type(value).__name__
            text = str(value).strip()
            if not text:
                text = name
            elif with_type and not text.startswith(name):
                text = f"{name}: {text}"
        else:
            text = _as_str(value).strip()
        text = text.splitlines()[0] if text else ""
        for secret in secrets:
            if secret:
                text = text.replace(secret, MASK)
        return redact_text(text)[:limit]
    except Exception:
        return "<unprintable>"


def _as_str(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


__all__ = [
    "MASK",
    "one_line",
    "redact",
    "redact_text",
    "redact_webhook",
    "url_secrets",
    "webhook_secrets",
]
