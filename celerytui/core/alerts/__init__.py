"""Alerts: rules (rule.py, one family a module under rules/, listed by registry.py) and the
AlertBook (book.py) that runs them and folds what they find into alerts."""

from celerytui.core.alerts.book import MAX_ALERTS, AlertBook
from celerytui.core.alerts.registry import register, registered, status_rules, unregister
from celerytui.core.alerts.rule import Context, Finding, Rule

__all__ = [
    "MAX_ALERTS",
    "AlertBook",
    "Context",
    "Finding",
    "Rule",
    "register",
    "registered",
    "status_rules",
    "unregister",
]
