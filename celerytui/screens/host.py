"""ScreenHost: what screens call on the app beyond Textual's ``App``.

``celerytui.app.CeleryTUI`` subclasses it and implements every member; a screen reads
``self.app`` as a ScreenHost (``ClusterScreen.app``), so it is typed against this contract and
never against the app module (screens sit below the app).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from textual.app import App

if TYPE_CHECKING:
    from celerytui.config import Settings
    from celerytui.core.monitor_view import MonitorView
    from celerytui.screens.journal_lookup import JournalLookup


class ScreenHost(App[None]):
    """The app as a screen sees it (see ``celerytui.app`` for how screens get their data)."""

    settings: Settings
    monitor: MonitorView
    notice: str | None  # one line the dashboard keeps on screen (the demo's log dir)
    journal: JournalLookup | None  # the journal, read from thread workers (None in a replay)
    keymap: Mapping[str, str]  # the user's binding id -> keys, checked (celerytui.keymaps)

    @property
    def is_read_only(self) -> bool:
        raise NotImplementedError

    def now(self) -> float:
        """The clock (injectable for snapshots)."""
        raise NotImplementedError

    def format_time(self, ts: float | None) -> str:
        """HH:MM:SS in settings.timezone."""
        raise NotImplementedError

    def format_age(self, ts: float | None) -> str:
        """ "12s ago"; "never" for None."""
        raise NotImplementedError

    def refuse_if_read_only(self, what: str, *, sends_message: bool = True) -> bool:
        """True (and a notice) when --read-only (or, for what ``sends_message`` to the
        workers, a signed cluster without a key) forbids ``what``."""
        raise NotImplementedError

    def controller_call(
        self,
        method: str,
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        label: str | None = None,
        mutating: bool = True,
        **kwargs: Any,
    ) -> None:
        """Run ``monitor.controller.<method>(*args, **kwargs)`` in a thread worker."""
        raise NotImplementedError

    def show_task(self, uuid: str) -> None:
        raise NotImplementedError

    def show_worker(self, hostname: str) -> None:
        raise NotImplementedError
