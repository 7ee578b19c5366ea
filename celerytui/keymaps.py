"""The user's ``[keymap]``: binding ids -> keys, checked once at start-up.

Textual applies a keymap itself (``App.set_keymap``) and, on a clash, drops the displaced
binding without a word (``App.handle_bindings_clash`` does nothing). So before the app starts,
``check_keymap`` reads every binding celerytui declares (the app and each screen, dialog and
widget: ``binding_scopes``) and turns the three ways a keymap goes wrong into one line each:
an id no binding has, a key Textual would never deliver, and two bindings of one scope on the
same key. What passes is the keymap in Textual's spelling ("?" becomes "question_mark").
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import unicodedata
from collections.abc import Iterable, Mapping

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode
from textual.keys import Keys

from celerytui.config import ConfigError
from celerytui.screens.bindings import class_bindings

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
_NAMED_KEYS = frozenset(key.value for key in Keys if "+" not in key.value)
# the packages whose classes bind keys (imported first: some screens load only when used)
BINDING_PACKAGES = ("celerytui.screens", "celerytui.widgets")


class KeymapError(ConfigError):
    """A keymap the app cannot honour: one line naming the id and where it came from."""


def binding_scopes() -> list[type[DOMNode]]:
    """Every celerytui class that binds keys (its own or inherited ``BINDINGS``): the app and
    each screen, dialog and widget. A scope is where one key may mean one thing."""
    for package in BINDING_PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.iter_modules(module.__path__):
            importlib.import_module(f"{package}.{info.name}")
    importlib.import_module("celerytui.app")
    found: dict[str, type[DOMNode]] = {}
    pending: list[type] = [DOMNode]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("celerytui.") and class_bindings(cls):
            found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


def known_ids(scopes: Iterable[type[DOMNode]]) -> dict[str, str]:
    """binding id -> its keys as declared, across ``scopes``."""
    ids: dict[str, list[str]] = {}
    for scope in scopes:
        for key, bindings in class_bindings(scope).items():
            for binding in bindings:
                if binding.id and key not in ids.setdefault(binding.id, []):
                    ids[binding.id].append(key)
    return {ident: ",".join(keys) for ident, keys in ids.items()}


def check_keymap(
    keymap: Mapping[str, str],
    source: str = "config",
    scopes: Iterable[type[DOMNode]] | None = None,
) -> dict[str, str]:
    """``keymap`` in Textual's key spelling, or KeymapError (one line, with ``source``)."""
    if not keymap:
        return {}
    scopes = binding_scopes() if scopes is None else list(scopes)
    ids = known_ids(scopes)
    normalized: dict[str, str] = {}
    for ident, keys in keymap.items():
        if ident not in ids:
            raise KeymapError(f"keymap.{ident}: {_unknown_id(ident, ids)} (from {source})")
        normalized[ident] = _checked_keys(ident, keys, source)
    for scope in scopes:
        _check_clashes(scope, normalized, source)
    return normalized


def _unknown_id(ident: str, ids: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(ident, list(ids), n=1)
    if close:
        return f"no binding has this id, did you mean {close[0]!r}?"
    some = ", ".join(sorted(ids)[:6])
    return f"no binding has this id (ids look like {some}; `?` in the app lists the keys)"


def _checked_keys(ident: str, keys: str, source: str) -> str:
    """Each of the comma-separated ``keys`` in Textual's spelling, or KeymapError."""
    spelled = list(BindingsMap([Binding(keys, "noop")]).key_to_bindings)
    for key in spelled:
        *modifiers, base = key.split("+") if len(key) > 1 else [key]
        if not base or any(m not in MODIFIERS for m in modifiers) or not _is_key(base):
            raise KeymapError(
                f"keymap.{ident}: {key!r} is not a key (keys look like 'ctrl+r', 'f5', 'R', "
                f"'question_mark' or '?') (from {source})"
            )
    return ",".join(spelled)


def _is_key(base: str) -> bool:
    if len(base) == 1 or base in _NAMED_KEYS:
        return True
    try:  # named characters: "question_mark", "slash", "plus" ...
        unicodedata.lookup(base.replace("_", " "))
        return True
    except KeyError:
        from textual.keys import key_to_character

        return key_to_character(base) is not None


def _check_clashes(scope: type[DOMNode], keymap: Mapping[str, str], source: str) -> None:
    """Two bindings of one scope on one key, one of them moved there by the keymap. (Textual
    would keep one and drop the other without a word: its own clash check misses bindings
    that have an id but are not in the keymap.)"""
    on_key: dict[str, dict[tuple[str | None, str], Binding]] = {}
    for key, bindings in class_bindings(scope).items():
        for binding in bindings:
            moved = binding.id is not None and binding.id in keymap
            for new_key in keymap[binding.id].split(",") if moved else [key]:  # type: ignore[index]
                on_key.setdefault(new_key, {})[(binding.id, binding.action)] = binding
    for key, found in on_key.items():
        bindings = list(found.values())
        movers = [b for b in bindings if b.id in keymap]
        if len(bindings) < 2 or not movers:
            continue
        mover = movers[0]
        other = next(b for b in bindings if b is not mover)
        what = repr(other.id) if other.id else f"the {other.action!r} binding"
        raise KeymapError(
            f"keymap.{mover.id}: {key!r} is already {what} in {scope.__name__}; "
            f"move that one too or pick another key (from {source})"
        )
