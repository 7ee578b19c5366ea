"""The UI's one read-only policy: which actions change the cluster, and how --read-only says no.

Under --read-only every action named in ``MUTATING_ACTIONS`` is hidden from the footer and the
help (``hides``, from each node's ``check_action``), its key answers with a notice instead of
acting (``ReadOnlyKeys.on_key``), its command-palette entry stays listed but answers with the
same notice (``palette_refusal``), and the action itself refuses first thing
(``app.refuse_if_read_only``), so no path reaches the Controller. The Controller refuses on its
own as well (``celerytui.core.control.mutating_methods``): the UI never relies on that alone.

A new mutating key: add its action here, with the words the notice uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from textual import events

from celerytui.screens.bindings import declared_bindings

# action name -> what the refusal notice calls it ("read-only: <what> refused")
MUTATING_ACTIONS: Mapping[str, str] = MappingProxyType(
    {
        # the app's keys (celerytui.screens.dispatch)
        "fire_http": "HTTP check",
        "fire_disk": "disk check",
        "fire_order": "order chain",
        "fire_email": "send_email",
        "fire_task": "send task",
        "rerun_selected": "re-run",
        # the selected task (celerytui.screens.task_actions)
        "revoke_task": "revoke",
        "terminate_task": "terminate",
        "rate_limit_task": "rate limit",
        # the selected worker (celerytui.screens.worker_actions)
        "pool_grow": "pool grow",
        "pool_shrink": "pool shrink",
        "autoscale": "autoscale",
        "add_consumer": "add consumer",
        "cancel_consumer": "cancel consumer",
        "shutdown_worker": "shutdown",
        # the selected queue (celerytui.screens.queues)
        "purge_queue": "purge",
    }
)


def action_name(action: str) -> str:
    """``switch_mode('tasks')`` -> ``switch_mode``."""
    return action.split("(", 1)[0]


def is_mutating(action: str) -> bool:
    return action_name(action) in MUTATING_ACTIONS


def hides(action: str, read_only: bool) -> bool:
    """Whether ``check_action`` hides ``action`` (read-only and it changes the cluster)."""
    return read_only and is_mutating(action)


def refusal(what: str) -> str:
    """The one notice every refused action gets."""
    return f"read-only: {what} refused"


def palette_refusal(action: str, label: str, on_app: bool) -> str | None:
    """What a palette entry's refusal names, or None when the action changes nothing. The
    app's own keys are named by their entry's label ("Fire the order chain"), a screen's by
    the words its key's notice uses ("purge")."""
    what = MUTATING_ACTIONS.get(action_name(action))
    if what is None:
        return None
    return label if on_app else what


class ReadOnlyKeys:
    """Mixin for a screen with mutating keys: hidden under --read-only, and a press of one of
    them gets the notice instead of nothing."""

    app: Any

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not hides(action, self.app.is_read_only)

    def on_key(self, event: events.Key) -> None:
        if not self.app.is_read_only or _app_takes(self.app, event.key):
            return
        for binding in declared_bindings(self, self.app.keymap).get(event.key, ()):
            what = MUTATING_ACTIONS.get(action_name(binding.action))
            if what:
                event.stop()
                event.prevent_default()
                self.app.notify(refusal(what), severity="warning")
                return


def _app_takes(app: Any, key: str) -> bool:
    """Whether the app acts on ``key`` itself with an enabled action that changes nothing
    (a replay's ``+`` / ``-`` set its speed): then a screen's mutating binding on that key,
    hidden under read-only, leaves the key to the app instead of refusing it."""
    return any(
        not is_mutating(binding.action) and app.check_action(binding.action, ()) is not False
        for binding in declared_bindings(app).get(key, ())
    )
