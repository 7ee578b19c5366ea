"""Contexts: several clusters in one config file, picked by name (k9s' contexts).

A config file may hold ``[contexts.NAME]`` tables (any top-level setting: broker_url,
result_backend, app, read_only, ``[contexts.NAME.thresholds]``...) and ``current_context``.
Which context is in effect: ``--context`` / ``CELERYTUI_CONTEXT`` / ``current_context``, the
first given; none of them means the file's top level alone. Precedence, lowest first:
defaults < the file's top level < environment < the context's table < command-line flags.
The context beats the environment because choosing it is explicit, and an ambient
``CELERY_BROKER_URL`` must not send every context to one broker. ``read_only`` only ever
tightens: true at any level stays true, so a context marked read-only is never written to.

Pure (stdlib, no config import): ``celerytui.config`` calls these while loading, and turns a
``ContextError`` into its ``ConfigError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CONTEXT_ENV = "CELERYTUI_CONTEXT"
FILE_KEYS = ("contexts", "current_context")  # the file's keys that are not settings


class ContextError(ValueError):
    """A bad context name or table: one line, names where it came from."""


@dataclass(frozen=True, slots=True)
class ContextChoice:
    """The context in effect: its name, its table and where the name came from."""

    name: str
    table: Mapping[str, Any]
    source: str  # "flag --context", "env CELERYTUI_CONTEXT", "<path> current_context"


def context_tables(data: Mapping[str, Any], path: str | None) -> dict[str, Mapping[str, Any]]:
    """The file's ``[contexts.NAME]`` tables, name -> table, in file order."""
    raw = data.get("contexts", {})
    if not isinstance(raw, Mapping):
        raise ContextError(f"contexts: expected [contexts.NAME] tables (from {path})")
    tables: dict[str, Mapping[str, Any]] = {}
    for name, table in raw.items():
        if not isinstance(table, Mapping):
            raise ContextError(f"contexts.{name}: expected a table of settings (from {path})")
        for key in FILE_KEYS:
            if key in table:
                raise ContextError(f"contexts.{name}.{key}: not allowed inside a context")
        tables[str(name)] = table
    return tables


def choose_context(
    flag: str | None,
    env: Mapping[str, str],
    data: Mapping[str, Any],
    path: str | None,
) -> ContextChoice | None:
    """The context in effect, or None for the file's top level alone."""
    tables = context_tables(data, path)
    current = data.get("current_context")
    if current is not None and (not isinstance(current, str) or not current.strip()):
        raise ContextError(f"current_context: expected a context name (from {path})")
    for name, source in (
        (flag, "flag --context"),
        (env.get(CONTEXT_ENV), f"env {CONTEXT_ENV}"),
        (current, f"{path} current_context"),
    ):
        if name is None or not str(name).strip():
            continue
        name = str(name).strip()
        if name not in tables:
            raise ContextError(unknown_context(name, list(tables), source, path))
        return ContextChoice(name, tables[name], source)
    return None


def unknown_context(name: str, known: list[str], source: str, path: str | None) -> str:
    """The one line for a name that no table defines: it lists the names that exist."""
    from celerytui.control_chars import escape_controls

    shown = escape_controls(repr(name))
    if not known:
        where = path or "no config file"
        return f"unknown context {shown} (from {source}): {where} defines no [contexts.NAME]"
    names = ", ".join(escape_controls(n) for n in known)
    return f"unknown context {shown} (from {source}); known: {names}"


def context_names(data: Mapping[str, Any], path: str | None) -> list[str]:
    """The names of the file's contexts, in file order."""
    return list(context_tables(data, path))
