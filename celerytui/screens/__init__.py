"""The dashboard's screens, and the small contract every live screen follows.

A live screen subclasses ``ClusterScreen`` and implements ``refresh_view``; the app calls it
on a timer with what changed since the last call (see ``celerytui.app`` for the whole
pattern). A screen with a notion of "the selected task" overrides ``selected_task`` so the
app-wide ``R`` (re-run) works on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from textual import getters

    from celerytui.core.model import Changes
    from celerytui.core.monitor_view import MonitorView
    from celerytui.screens.host import ScreenHost


class ClusterScreen(Screen):
    """A screen that shows live cluster state."""

    if TYPE_CHECKING:
        app = getters.app(ScreenHost)  # typing only: the app is a CeleryTUI

    def refresh_view(self, monitor: MonitorView, changes: Changes | None) -> None:
        """Redraw from ``monitor.state``; ``changes`` None means "redraw everything".

        Called on the UI thread while the pump is parked, so reading ``monitor.state`` here
        needs no lock. Update only what ``changes`` names (plus ages, about once a second).
        """

    def selected_task(self) -> str | None:
        """The uuid of the task the cursor is on, for ``R``; None when there is none."""
        return None
