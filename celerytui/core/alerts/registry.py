"""The registered alert rules: every module under ``celerytui/core/alerts/rules/`` is imported
once, and each class it decorates with ``@register`` becomes one rule. Adding a rule is adding
one file there."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from celerytui.core.alerts.rule import Rule

R = TypeVar("R", bound=type[Rule])

RULES_PACKAGE = "celerytui.core.alerts.rules"

_rules: dict[str, Rule] = {}
_loaded = False


def register(cls: R) -> R:
    """Class decorator: one instance of ``cls`` joins the registry under ``cls.name``."""
    if cls.kind not in ("event", "periodic"):
        raise ValueError(f"rule {cls.name}: kind must be 'event' or 'periodic', not {cls.kind!r}")
    if cls.name in _rules and type(_rules[cls.name]) is not cls:
        raise ValueError(f"two alert rules are named {cls.name!r}")
    _rules[cls.name] = cls()
    return cls


def unregister(name: str) -> None:
    """Drop a rule (tests that register their own)."""
    _rules.pop(name, None)


def registered() -> tuple[Rule, ...]:
    """Every rule, in evaluation order."""
    _load()
    return tuple(sorted(_rules.values(), key=lambda rule: (rule.order, rule.name)))


def status_rules() -> tuple[Rule, ...]:
    """The rules `celerytui status` evaluates on its snapshot: any finding means degraded."""
    return tuple(rule for rule in registered() if rule.in_status)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = importlib.import_module(RULES_PACKAGE)
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        importlib.import_module(f"{RULES_PACKAGE}.{module.name}")
