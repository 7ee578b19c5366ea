"""Command palette entries (ctrl+p) for every action the app and the active screen bind.

Textual's SystemCommandsProvider asks ``App.get_system_commands``; the app yields these, so the
palette offers every key's action by its description. Under --read-only the mutating ones stay
listed but answer with a notice instead of acting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.screen import Screen

if TYPE_CHECKING:
    from celerytui.app import CeleryTUI


def _bindings(node) -> Iterator:
    for _key, bindings in node._bindings.key_to_bindings.items():
        yield from bindings


def action_commands(app: CeleryTUI, screen: Screen) -> Iterator[SystemCommand]:
    """One SystemCommand per distinct bound action of ``screen`` and ``app``."""
    from celerytui.app import MUTATING_ACTIONS

    seen: set[str] = set()
    for node in (screen, app):
        for binding in _bindings(node):
            if binding.action in seen or binding.action in ("quit", "command_palette"):
                continue
            if node is app and app.seed_unregistered(binding.action):
                continue  # a seed task the watched app does not register
            seen.add(binding.action)
            key = binding.key_display or app.get_key_display(binding)
            label = binding.tooltip or binding.description or binding.action
            title = f"{label} ({key})"
            action_name = binding.action.split("(", 1)[0]

            # a screen's mutating actions (ReadOnlyKeys.MUTATING) too: its check_action would
            # otherwise drop them without a word
            what = getattr(node, "MUTATING", {}).get(action_name) or (
                label if action_name in MUTATING_ACTIONS else None)

            def run(action=binding.action, target=node, what=what) -> None:
                if what and app.is_read_only:
                    app.notify(f"read-only: {what} refused", severity="warning")
                    return
                app.call_later(app.run_action, action, target)

            yield SystemCommand(title, f"action: {binding.action}", run)
