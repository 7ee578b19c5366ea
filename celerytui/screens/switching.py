"""The screen shown while the dashboard switches to another context (a second or two)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from celerytui.text_safety import literal_content
from celerytui.widgets.header_bar import HeaderBar


class SwitchingScreen(Screen):
    """Nothing of the old cluster, nothing of the new one yet: where the switch is going."""

    TITLE = "Switching"

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield Static("switching…", id="switching-status", classes="screen-status")

    def show_target(self, name: str) -> None:
        """Say which context is coming (a context name is user text: shown literally)."""
        status = self.query_one("#switching-status", Static)
        status.update(literal_content(f"switching to {name}: stopping the old monitor…"))
