"""Switching the dashboard to another context (``:ctx NAME``, the palette's "Switch cluster")
without restarting the app.

The order keeps a failed switch harmless and the new cluster's screens clean:

1. load the context's settings and build its Monitor (a bad table or a bad ``-A`` is one
   notice, and the old cluster stays on);
2. stop the pump, then the old Monitor (its threads joined, its connections closed), off the
   UI thread and never waiting long on a broker that hangs;
3. show a "switching" screen, drop every mode's screens (and what is pushed on them) and
   declare them anew, so no row, filter or detail of the old cluster survives;
4. adopt the new settings and Monitor (``read_only`` with them: a read-only context stays
   read-only whatever was before), start the pump, open the screen the user was on.

Mixed into ``celerytui.app.CeleryTUI``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from textual import work
from textual.screen import Screen

from celerytui.config import ConfigError, Settings
from celerytui.redaction import one_line
from celerytui.screens.switching import SwitchingScreen

if TYPE_CHECKING:
    from celerytui.core.monitor_view import MonitorView
    from celerytui.screens.host import ScreenHost as _Host
else:
    _Host = object

TRANSIT_MODE = "switching"
STOP_WAIT = 3.0  # seconds the UI waits for the old pump and monitor before going on


class ContextSource(Protocol):
    """Where the app finds the other contexts (``celerytui.cli_options.ContextLoader``)."""

    def names(self) -> list[str]: ...

    def load(self, name: str) -> Settings: ...


class ClusterSwitching(_Host):
    """``switch_context(name)``: the dashboard on another cluster."""

    contexts: ContextSource | None
    switching_to: str | None = None  # the context a switch in progress goes to

    def context_names(self) -> list[str]:
        """The config's contexts (empty when there are none or the file went bad)."""
        if self.contexts is None:
            return []
        try:
            return self.contexts.names()
        except ConfigError as exc:
            self.notify(one_line(exc), severity="error")
            return []

    def switch_context(self, name: str) -> None:
        """Start switching to the context ``name`` (a notice says when it cannot)."""
        if self.switching_to is not None:
            self.notify(f"already switching to {self.switching_to}", severity="warning")
        elif name == self.settings.context:
            self.notify(f"already on {name}")
        elif self.contexts is None:
            self.notify("no contexts: add [contexts.NAME] to the config file", severity="warning")
        else:
            self.switching_to = name
            self._switch_worker(name)

    @work(exclusive=True, group="switch", exit_on_error=False)
    async def _switch_worker(self, name: str) -> None:
        try:
            await self._switch(name)
        finally:
            self.switching_to = None

    async def _switch(self, name: str) -> None:
        assert self.contexts is not None
        try:
            settings = self.contexts.load(name)
            monitor = await asyncio.to_thread(build_monitor, settings)
        except Exception as exc:  # ConfigError, AppLoadError: one line, old cluster stays
            self.notify(f"cannot switch to {name}: {one_line(exc)}", severity="error")
            return
        mode = self.current_mode if self.current_mode != TRANSIT_MODE else "dashboard"
        await self.switch_mode(TRANSIT_MODE)
        if isinstance(self.screen, SwitchingScreen):
            self.screen.show_target(name)
        await self.stop_cluster()
        for each, screen_type in self.mode_screens().items():
            await self.remove_mode(each)
            self.add_mode(each, screen_type)
        self.adopt_cluster(settings, monitor)
        await self.switch_mode(mode)
        await self.remove_mode(TRANSIT_MODE)
        self.add_mode(TRANSIT_MODE, SwitchingScreen)
        self.notify(f"switched to {name}", title="context")

    async def stop_cluster(self) -> None:
        """Stop the pump and the current Monitor, waiting at most STOP_WAIT for each."""
        ended = self.stop_pump()
        await _wait_until(ended.is_set, STOP_WAIT)
        old = self.monitor
        stopper = threading.Thread(target=_stop_quietly, args=(old,), daemon=True)
        stopper.start()
        await _wait_until(lambda: not stopper.is_alive(), STOP_WAIT)

    # -- what the app provides -------------------------------------------------------------
    def mode_screens(self) -> dict[str, type[Screen]]:
        raise NotImplementedError

    def stop_pump(self) -> threading.Event:
        """Ask the pump to stop; the event is set once it has."""
        raise NotImplementedError

    def adopt_cluster(self, settings: Settings, monitor: MonitorView) -> None:
        """Take the new settings and monitor, forget the old cluster's, start the pump."""
        raise NotImplementedError


def build_monitor(settings: Settings) -> MonitorView:
    """A Monitor for ``settings`` (with its ``-A`` app when it names one), not started."""
    from celerytui.core.monitor import Monitor

    app = None
    if settings.app:
        from celerytui.commands.app_loader import load_app

        app = load_app(settings)
    return Monitor(settings, app=app)


def _stop_quietly(monitor: Any) -> None:
    with contextlib.suppress(Exception):  # a broker that died: its threads are daemons
        monitor.stop(timeout=1.0)


async def _wait_until(done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True
