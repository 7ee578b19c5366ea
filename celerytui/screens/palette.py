"""The command palette (ctrl+p): every action the app and the active screen bind, by its
description, beside Textual's own system commands.

``ActionCommands`` is the app's palette ``Provider`` (``CeleryTUI.COMMANDS``). Each context of the
config file but the current one is an entry too, "Switch cluster: NAME". Under --read-only
the mutating entries stay listed but answer with the read-only notice instead of acting
(``celerytui.screens.read_only``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from textual.app import SystemCommand
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.markup import escape
from textual.screen import Screen

from celerytui.control_chars import escape_controls
from celerytui.screens.bindings import each_binding
from celerytui.screens.read_only import palette_refusal, refusal

# bound actions the palette leaves to Textual's own entries
NOT_LISTED = frozenset({"quit", "command_palette"})


class ActionsHost(Protocol):
    """What the palette needs of the app."""

    @property
    def is_read_only(self) -> bool: ...

    keymap: Mapping[str, str]

    def seed_unregistered(self, action: str) -> list[str]: ...

    def replay_hides(self, action: str) -> bool: ...

    def get_key_display(self, binding: Binding) -> str: ...

    def notify(self, message: str, *, severity: Any = ...) -> None: ...

    def call_later(self, callback: Any, *args: Any) -> bool: ...

    async def run_action(self, action: str, default_namespace: DOMNode | None = ...) -> bool: ...

    def context_names(self) -> list[str]: ...

    def switch_context(self, name: str) -> None: ...


def action_commands(app: ActionsHost, screen: Screen) -> Iterator[SystemCommand]:
    """One entry per distinct bound action of ``screen`` and ``app``."""
    seen: set[str] = set()
    for node in (screen, app):
        for binding in each_binding(node, app.keymap):
            if binding.action in seen or binding.action in NOT_LISTED:
                continue
            if node is app and app.seed_unregistered(binding.action):
                continue  # a seed task the watched app does not register
            if node is app and app.replay_hides(binding.action):
                continue  # a replay key, on a live app
            seen.add(binding.action)
            key = binding.key_display or app.get_key_display(binding)
            label = binding.tooltip or binding.description or binding.action
            # a mutating entry refuses itself: its check_action would drop it without a word
            what = palette_refusal(binding.action, label, on_app=node is app)

            def run(
                action: str = binding.action, target: Any = node, what: str | None = what
            ) -> None:
                if what and app.is_read_only:
                    app.notify(refusal(what), severity="warning")
                    return
                app.call_later(app.run_action, action, target)

            yield SystemCommand(f"{label} ({key})", f"action: {binding.action}", run)


def context_commands(app: ActionsHost, current: str | None) -> Iterator[SystemCommand]:
    """ "Switch cluster: NAME" for every context but ``current``. The palette reads titles as
    markup: a context name is user text, so it is escaped (controls spelled out, too)."""
    here = escape(escape_controls(current)) if current else "this cluster"
    for name in app.context_names():
        if name == current:
            continue

        def run(name: str = name) -> None:
            app.switch_context(name)

        shown = escape(escape_controls(name))
        yield SystemCommand(f"Switch cluster: {shown}", f"leave {here}, watch {shown}", run)


class ActionCommands(Provider):
    """Textual's system commands plus ``action_commands``, in one list sorted by title."""

    def _commands(self) -> list[SystemCommand]:
        app: Any = self.app
        return [
            *app.get_system_commands(self.screen),
            *action_commands(app, self.screen),
            *context_commands(app, app.settings.context),
        ]

    async def discover(self) -> Hits:
        for title, help_text, callback, discover in sorted(self._commands(), key=lambda c: c.title):
            if discover:
                yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback, _discover in self._commands():
            if (score := matcher.match(title)) > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
