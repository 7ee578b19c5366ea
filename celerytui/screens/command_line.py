"""The ``:`` command line (k9s-style): one Input docked at the bottom, with completion.

``:ctx NAME`` switches cluster, ``:tasks`` / ``:workers`` / ... open a screen, ``:q`` quits.
What the words mean and how they complete is ``celerytui.screens.command_words``; this screen
only edits the line and hands it back (``dismiss(text)``, None on Escape). The app carries it
out, so an unknown word is one notice there.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from celerytui.screens.command_words import CONTEXT_WORDS, common_prefix, completions
from celerytui.text_safety import literal_content

MAX_HINTS = 8


class CommandSuggester(Suggester):
    """The first completion, shown greyed after the cursor (right arrow or Tab takes it)."""

    def __init__(self, screens: Sequence[str], contexts: Sequence[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.screens, self.contexts = list(screens), list(contexts)

    async def get_suggestion(self, value: str) -> str | None:
        found = completions(value, self.screens, self.contexts)
        return found[0] if found and value else None


class CommandInput(Input):
    """The line itself. Tab is bound here, not on the screen: the focused widget's keys are
    handled in the order typed, so a fast "c", "t", Tab completes "ct", not "c"."""

    BINDINGS = [Binding("tab", "screen.complete", "Complete", id="command-complete")]


class CommandLineScreen(ModalScreen[str | None]):
    """Edits one command; enter hands it back, Escape closes without one."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="command-close"),
        # the line's own Tab (CommandInput) once it has focus; this one before it has
        Binding("tab", "complete", "Complete", id="command-line-complete", show=False),
    ]

    def __init__(self, screens: Sequence[str], contexts: Sequence[str]) -> None:
        super().__init__()
        self.screens, self.contexts = list(screens), list(contexts)
        self._cycle: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="command-line"):
            yield Static(id="command-hints")
            with Horizontal(id="command-row"):
                yield Static(":", id="command-prompt")
                yield CommandInput(
                    id="command-input",
                    placeholder="ctx NAME, tasks, workers, … (Tab completes, Esc closes)",
                    suggester=CommandSuggester(self.screens, self.contexts),
                    select_on_focus=False,
                )

    def on_mount(self) -> None:
        self._show_hints("")

    def on_key(self, event: events.Key) -> None:
        """Keys typed right after ``:`` reach the screen before the line has focus: they
        belong to the line all the same."""
        field = self.query_one("#command-input", Input)
        if field.has_focus:
            return
        if event.is_printable and event.character:
            event.stop()
            field.focus()
            field.insert_text_at_cursor(event.character)
        elif event.key in ("enter", "backspace"):
            event.stop()
            field.focus()
            if event.key == "enter":
                self.dismiss(field.value)
            else:
                field.action_delete_left()

    @on(Input.Changed, "#command-input")
    def _changed(self, event: Input.Changed) -> None:
        if event.value not in self._cycle:
            self._cycle = []
        self._show_hints(event.value)

    @on(Input.Submitted, "#command-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_complete(self) -> None:
        """Fill in what every completion shares; when that adds nothing, the next one."""
        field = self.query_one("#command-input", Input)
        found = self._cycle or completions(field.value, self.screens, self.contexts)
        if not found:
            self.app.bell()
            return
        shared = common_prefix(found)
        if len(found) == 1 or len(shared) > len(field.value):
            text = found[0] if len(found) == 1 else shared
            if text in CONTEXT_WORDS:
                text += " "
            self._cycle = []
        else:  # several, nothing more in common: Tab walks through them
            index = found.index(field.value) + 1 if field.value in found else 0
            text = found[index % len(found)]
            self._cycle = found
        field.value = text
        field.cursor_position = len(text)

    def _show_hints(self, value: str) -> None:
        found = completions(value, self.screens, self.contexts)
        more = f"  (+{len(found) - MAX_HINTS})" if len(found) > MAX_HINTS else ""
        text = "  ".join(f":{line}" for line in found[:MAX_HINTS]) + more
        self.query_one("#command-hints", Static).update(literal_content(text or " "))
