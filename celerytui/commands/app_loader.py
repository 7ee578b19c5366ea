"""Find the user's Celery app from `-A MODULE`, the way `celery -A` does, or build ours.

Shared by the headless commands and the TUI.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from celery import Celery

from celerytui.config import Settings
from celerytui.core.app_urls import pin_urls
from celerytui.redaction import one_line


class AppLoadError(Exception):
    """`-A` names nothing we can import, or a module with no Celery app in it (one line)."""


def find_app(spec: str) -> Celery:
    """Import ``spec`` ("proj", "proj.celery", "proj:app") and return its Celery app.

    Like `celery -A`: an explicit ``:attribute``, else ``app`` or ``celery``, else the only
    Celery instance among the module's attributes, else the ``proj.celery`` submodule.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise AppLoadError(f"-A {spec!r}: give a module, e.g. -A proj or -A proj.celery:app")
    if os.getcwd() not in sys.path:  # `celery -A` finds modules in the current directory
        sys.path.insert(0, os.getcwd())
    module = _import(module_name, spec)
    if attribute:
        app = getattr(module, attribute, None)
        if not isinstance(app, Celery):
            raise AppLoadError(f"-A {spec!r}: {module_name}.{attribute} is not a Celery app")
        return app
    app = _app_in(module)
    if app is None and not module_name.endswith(".celery"):
        try:
            app = _app_in(importlib.import_module(f"{module_name}.celery"))
        except ImportError:
            app = None
    if app is None:
        raise AppLoadError(
            f"-A {spec!r}: no Celery app found in module {module_name} "
            "(name it `app`, or use -A module:attribute)"
        )
    return app


def _flagged(settings: Settings, key: str) -> str | None:
    """The setting's value when a command-line flag gave it, else None."""
    return getattr(settings, key) if settings.source_of(key).startswith("flag ") else None


def _import(module_name: str, spec: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise AppLoadError(f"-A {spec!r}: no module named {exc.name!r}") from None
    except Exception as exc:  # the user's module raised while importing
        raise AppLoadError(
            f"-A {spec!r}: importing {module_name} failed: {one_line(exc, with_type=True)}"
        ) from None


def _app_in(module: Any) -> Celery | None:
    for name in ("app", "celery"):
        candidate = getattr(module, name, None)
        if isinstance(candidate, Celery):
            return candidate
    found = [v for v in vars(module).values() if isinstance(v, Celery)]
    return found[0] if len(found) == 1 else None


def load_app(settings: Settings) -> Celery:
    """The app to talk to the cluster with: the user's (-A), or celerytui's own client app
    configured with the settings' broker and backend.

    The -A app keeps its own broker and backend unless ``--broker`` / ``--result-backend``
    name others: a flag beats the app's configuration and the environment alike."""
    if settings.app:
        from celerytui import signing

        app = find_app(settings.app)
        signing.adopt(app, settings)  # our signing settings, else the app's own auth setup
        return pin_urls(app, _flagged(settings, "broker_url"), _flagged(settings, "result_backend"))
    from celerytui.core.monitor import client_app

    return client_app(settings)
