"""LiveScreen: a ClusterScreen that survives being asked to draw before it has composed.

The app may call ``refresh_view`` on a screen just pushed, before its widgets exist (or before
their columns are added); an exception there would end the app's pump. LiveScreen skips
that call and makes the next one a full redraw, so subclasses implement ``draw`` and never
see a half-built screen.
"""

from __future__ import annotations

from textual.css.query import NoMatches

from celerytui.core.model import Changes
from celerytui.core.monitor_view import MonitorView
from celerytui.screens import ClusterScreen


class LiveScreen(ClusterScreen):
    _missed_full = True

    def refresh_view(self, monitor: MonitorView, changes: Changes | None) -> None:
        if not self.is_mounted:  # widgets (and their columns) may not exist yet
            self._missed_full = True
            return
        if self._missed_full:
            changes = None
        try:
            self.draw(monitor, changes)
        except NoMatches:  # not composed yet: draw everything next time
            self._missed_full = True
            return
        self._missed_full = False

    def draw(self, monitor: MonitorView, changes: Changes | None) -> None:
        """Redraw from ``monitor.state``; ``changes`` None means everything."""
