"""The Textual app: modes 1-6, the live pump, and dispatch to the cluster.

How a screen gets its data (read this before writing a screen):

* The app owns one ``Monitor`` (``self.monitor``). A thread worker pumps it about 10 times a
  second (``monitor.pump()`` under ``monitor.lock``), then hands the returned ``Changes`` to the
  UI thread and waits until the UI has drawn them. So while a screen draws, nothing mutates
  ``monitor.state``; elsewhere on the UI thread (key handlers) read state inside
  ``with self.app.monitor.lock:``.
* Each tick the app calls ``screen.refresh_view(monitor, changes)`` on the active screen if it
  is a ``celerytui.screens.ClusterScreen``. ``changes`` is None for "redraw everything" (first
  draw, after a mode switch, after pause or a modal). The call is skipped while paused (``p``)
  or while a modal screen is on top; changes accumulate and arrive as None afterwards.
  Update only what ``changes`` names, inside ``with self.app.batch_update():``; never work per
  event. ``self.app.now()`` is the clock (injectable for snapshots); ``self.app.format_time``
  and ``self.app.format_age`` give times in settings.timezone and "12s ago" ages.
* Put ``HeaderBar()`` at the top of a screen and (optionally) ``AlertBanner()``: the app keeps
  every one of those on the active screen up to date. Put ``Footer()`` at the bottom.
* Screens for keys 1-6 are modes: the classes in ``MODE_SCREENS`` below. Detail screens are
  pushed with ``app.show_task(uuid)`` / ``app.show_worker(hostname)``; a table that lists tasks
  or workers posts ``TaskChosen`` / ``WorkerChosen`` (``celerytui.widgets.chosen``) on enter and
  the app opens the detail, whatever the screen.
* Actions reach the cluster only through ``self.app.controller_call(method, *args,
  on_done=callback, label="...")``: it refuses under --read-only with a notice, runs
  ``monitor.controller.<method>(*args)`` in a thread worker, shows one-line errors as
  notifications, and calls ``on_done(result)`` back on the UI thread. Fire tasks with
  ``app.fire(method, *args, label=...)`` (notifies the id, then the result when it finishes);
  re-run a task with ``app.rerun_task(uuid)`` (these live in ``celerytui.screens.dispatch``).
  A screen's own mutating actions: name them in ``celerytui.screens.read_only.
  MUTATING_ACTIONS``, mix in its ``ReadOnlyKeys`` (hides them and answers their keys under
  --read-only) and call ``app.refuse_if_read_only(what)`` first thing in the action.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from textual import on, work
from textual.actions import SkipAction
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.theme import Theme
from textual.worker import get_current_worker

from celerytui import signing
from celerytui.cluster_switch import TRANSIT_MODE, ClusterSwitching, ContextSource
from celerytui.config import Settings
from celerytui.core.model import Changes
from celerytui.core.monitor_view import MonitorView
from celerytui.core.replay_clock import ReplayClock
from celerytui.gc_policy import GcPolicy, uncache_whole_strip_divides, unlink_cleared_lru_caches
from celerytui.keymaps import check_keymap
from celerytui.redaction import one_line, redact
from celerytui.screens import ClusterScreen
from celerytui.screens.bindings import declared_bindings, each_binding
from celerytui.screens.command_line import CommandLineScreen
from celerytui.screens.command_words import CommandLineError, parse
from celerytui.screens.dashboard import DashboardScreen
from celerytui.screens.dispatch import DispatchActions
from celerytui.screens.failures import FailuresScreen
from celerytui.screens.host import ScreenHost
from celerytui.screens.journal_lookup import JournalLookup
from celerytui.screens.palette import ActionCommands
from celerytui.screens.queues import QueuesScreen
from celerytui.screens.read_only import hides, refusal
from celerytui.screens.replay_controls import REPLAY_BINDINGS, ReplayControls, replay_banner
from celerytui.screens.schedule import ScheduleScreen
from celerytui.screens.switching import SwitchingScreen
from celerytui.screens.task_detail import TaskDetailScreen
from celerytui.screens.tasks import TasksScreen
from celerytui.screens.worker_detail import WorkerDetailScreen
from celerytui.screens.workers import WorkersScreen
from celerytui.text_safety import escape_controls
from celerytui.theme_memory import ThemeMemory, starting_theme
from celerytui.widgets.ages import format_age
from celerytui.widgets.alert_banner import AlertBanner
from celerytui.widgets.chosen import TaskChosen, WorkerChosen
from celerytui.widgets.header_bar import HeaderBar, HeaderInfo, cluster_label

if TYPE_CHECKING:
    from celerytui.journal_process import JournalProcess

PUMP_INTERVAL = 0.1
# mode name -> (key, title, screen class)
MODE_SCREENS: dict[str, tuple[str, str, type[Screen]]] = {
    "dashboard": ("1", "Dashboard", DashboardScreen),
    "tasks": ("2", "Tasks", TasksScreen),
    "failures": ("3", "Failures", FailuresScreen),
    "workers": ("4", "Workers", WorkersScreen),
    "queues": ("5", "Queues", QueuesScreen),
    "schedule": ("6", "Schedule", ScheduleScreen),
}
SCREENS_GROUP = Binding.Group("screens", compact=True)


class CeleryTUI(ClusterSwitching, ReplayControls, DispatchActions, ScreenHost):
    """celerytui's dashboard: one Monitor, screens by mode, keys that fire tasks, ``:`` and
    the palette to switch context (celerytui.cluster_switch), the replay keys under
    `celerytui replay` (screens/replay_controls.py)."""

    CSS_PATH = "styles.tcss"
    TITLE = "celerytui"
    MODES = {
        **{mode: cls for mode, (_key, _title, cls) in MODE_SCREENS.items()},
        TRANSIT_MODE: SwitchingScreen,
    }
    COMMANDS = {ActionCommands}  # Textual's system commands and every bound action
    BINDINGS = [
        Binding("h", "fire_http", "HTTP", id="fire-http", tooltip="Fire an HTTP check"),
        Binding("d", "fire_disk", "Disk", id="fire-disk", tooltip="Fire a disk check"),
        Binding("o", "fire_order", "Order", id="fire-order", tooltip="Fire the order chain"),
        Binding("e", "fire_email", "Email", id="fire-email", tooltip="Fire send_email"),
        Binding("t", "fire_task", "Task", id="fire-task", tooltip="Fire any registered task"),
        Binding("R", "rerun_selected", "Re-run", id="rerun"),
        Binding("A", "acknowledge_alerts", "Ack alerts", id="ack-alerts"),
        Binding("p", "toggle_pause", "Pause", id="pause"),
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
        Binding(
            "colon",
            "command_line",
            "Command",
            id="command-line",
            key_display=":",
            show=False,
            priority=True,  # so keys typed right after it land on the line, not the screen
            tooltip="Command line (:ctx NAME, :tasks, :q)",
        ),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+c", "quit", "Quit", id="quit-ctrl-c", show=False, priority=True),
        *[
            Binding(key, f"switch_mode('{mode}')", title, id=f"mode-{mode}", group=SCREENS_GROUP)
            for mode, (key, title, _cls) in MODE_SCREENS.items()
        ],
        # Textual's own palette key, declared here so the help and the palette read it from
        # BINDINGS like every other key
        Binding(
            App.COMMAND_PALETTE_BINDING,
            "command_palette",
            "palette",
            id="command-palette",
            show=False,
            key_display=App.COMMAND_PALETTE_DISPLAY,
            priority=True,
            tooltip="Open the command palette",
        ),
        *REPLAY_BINDINGS,  # shown only in `celerytui replay`
    ]

    def __init__(
        self,
        settings: Settings,
        monitor: MonitorView | None = None,
        *,
        clock: Callable[[], float] | None = None,
        start_monitor: bool = True,
        pump_interval: float = PUMP_INTERVAL,
        notice: str | None = None,
        contexts: ContextSource | None = None,
        replay: ReplayClock | None = None,
        record: bool = False,
        theme_memory: ThemeMemory | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.contexts = contexts  # the config's other clusters, for :ctx and the palette
        self.replay = replay  # `celerytui replay`: the clock its keys move
        # the user's look, checked before anything starts (a bad one is one Error: line)
        self.keymap = check_keymap(settings.keymap, settings.source_of("keymap"))
        self.theme_memory = theme_memory  # None: the palette's pick is not remembered
        if theme := starting_theme(settings, theme_memory):
            self.theme = theme
        self.notice = notice  # one line the dashboard keeps on screen (the demo's log dir)
        if monitor is None:
            from celerytui.core.monitor import Monitor

            monitor = Monitor(settings, app=_user_celery_app(settings))
        self.monitor: MonitorView = monitor
        # the journal's past (failures before this session, old tasks): live sessions only
        self.journal = JournalLookup(settings, _broker_of(monitor)) if replay is None else None
        self.clock = clock or monitor.clock
        self.start_monitor = start_monitor
        self.pump_interval = pump_interval
        self.paused = False
        self.paused_new = 0
        self._pending_full = True
        self._drawn_screen: Screen | None = None
        self._fired: dict[str, str] = {}  # task id -> label, until its result is shown
        self._stopping = threading.Event()
        self._pump_ended = threading.Event()
        self._monitor_started = False
        self._redraw_failed = False
        self.ticks = 0  # pump rounds handed to the UI (tests wait on it)
        self._tz = _timezone(settings.timezone)
        self._chrome_cache: WeakKeyDictionary[Screen, tuple] = WeakKeyDictionary()
        self.gc_policy = GcPolicy()
        unlink_cleared_lru_caches()
        uncache_whole_strip_divides()
        self.record = record  # into the journal while running (the CLI: unless --no-record)
        self._recorder: JournalProcess | None = None  # the recording child process
        self._previous_recorder: JournalProcess | None = None  # the old cluster's, ending

    # -- clock and formatting --------------------------------------------------------------
    def now(self) -> float:
        return self.clock()

    def format_time(self, ts: float | None) -> str:
        """HH:MM:SS in settings.timezone (local time by default)."""
        if not ts:
            return "--:--:--"
        return datetime.fromtimestamp(ts, self._tz).strftime("%H:%M:%S")

    def format_age(self, ts: float | None) -> str:
        """ "12s ago", "3m ago", "2h ago"; "never" for None."""
        if not ts:
            return "never"
        return format_age(self.now() - ts)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications carry cluster and user text: literal by default (no markup, controls
        spelled out)."""
        if not markup:
            message, title = escape_controls(message, keep_newlines=True), escape_controls(title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    @property
    def is_read_only(self) -> bool:
        return bool(self.settings.read_only)

    # -- life cycle --------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.set_keymap(self.keymap)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.switch_mode("dashboard")
        self._pump_loop()

    @work(thread=True, exclusive=True, group="pump", exit_on_error=False)
    def _pump_loop(self) -> None:
        worker = get_current_worker()
        if self.record:  # first: the child's start (a Python, celery) overlaps the monitor's
            self._start_recording()
        if self.start_monitor:
            try:
                self.monitor.start()
                self._monitor_started = True
            except Exception as exc:
                self.call_from_thread(
                    self.notify, f"monitor failed to start: {one_line(exc)}", severity="error"
                )
        while not (worker.is_cancelled or self._stopping.is_set()):
            began = time.monotonic()
            self.gc_policy.step(began)  # no full GC pass per 100k tasks on the UI (gc_policy)
            changes: Changes | None
            try:
                with self.monitor.lock:
                    changes = self.monitor.pump()
            except Exception as exc:  # a broker hiccup must never stop the dashboard
                self.log.warning(f"pump failed: {one_line(exc)}")
                changes = Changes()
            if self._stopping.is_set():
                break
            if self._recorder is not None:
                self._watch_journal()
            try:
                self.call_from_thread(self._on_pumped, changes)
            except RuntimeError:  # the app is shutting down
                break
            except Exception as exc:  # a screen's bug must not stop live updates
                self.log.error(f"redraw failed: {one_line(exc, with_type=True)}")
                if not self._redraw_failed:
                    self._redraw_failed = True
                    with contextlib.suppress(Exception):
                        self.call_from_thread(
                            self.notify, f"redraw failed: {one_line(exc)}", severity="error"
                        )
            self._stopping.wait(max(0.0, self.pump_interval - (time.monotonic() - began)))
        self._stop_recording()  # quit or cluster switch: the old cluster's recorder ends
        self.gc_policy.release()  # nobody steps it any more: CPython collects on its own
        self._pump_ended.set()

    def _start_recording(self) -> None:
        """Pump thread: record into the journal from a child process (journal_process.py: no
        encoding or writing under this process's GIL); it says, once, when another writer
        holds the store (then this TUI only reads it) or when the store cannot be opened."""
        from celerytui.journal_process import JournalProcess

        if self._previous_recorder is not None:  # a switch: one writer, even on one store
            self._previous_recorder.wait()
            self._previous_recorder = None
        try:
            watched = None if self.settings.app else self.monitor.app
            schedule = watched.conf.beat_schedule if watched is not None else None
            self._recorder = JournalProcess(
                self.settings, holder="celerytui TUI", beat_schedule=schedule
            ).start()
        except OSError as exc:
            self.call_from_thread(
                self.notify, f"not recording: {one_line(exc)}", severity="warning", timeout=8
            )

    def _watch_journal(self) -> None:
        """Pump thread: what the recorder has to say (a disk full, writing again...), each
        once; the live view goes on either way."""
        recorder = self._recorder
        for line, severity in recorder.take_notices() if recorder is not None else ():
            with contextlib.suppress(Exception):
                self.call_from_thread(self.notify, line, severity=severity, timeout=8)

    def _stop_recording(self) -> None:
        """The child writes what it holds and gives the lease back (it also stops on its own
        when this process dies: EOF on its stdin)."""
        if self._recorder is not None:
            self._recorder.stop()

    def _on_pumped(self, changes: Changes) -> None:
        """UI thread, pump parked: account the changes, draw if we may."""
        self.ticks += 1
        self._notify_finished(changes)
        if self.paused:
            self.paused_new += len(changes.new_tasks)
            self._refresh_header()
            return
        screen = self.screen
        if isinstance(screen, ModalScreen):
            self._pending_full = True
            return
        full = self._pending_full or screen is not self._drawn_screen or self.replay_redraw_due()
        self._pending_full = False
        self._drawn_screen = screen
        with self.batch_update():
            self._refresh_header()
            self._refresh_banners()
            if isinstance(screen, ClusterScreen):
                screen.refresh_view(self.monitor, None if full else changes)

    def header_info(self) -> HeaderInfo:
        status = self.monitor.events.status
        if self.replay is not None:
            note = "journal" if status.connected else f"journal: {status.last_error or 'stopped'}"
        elif status.connected:
            note = "connected"
        elif status.attempts or status.last_error:
            note = f"reconnecting {self.format_age(status.since).removesuffix(' ago')}"
        else:
            note = "connecting"
        rate = self.monitor.events_per_second()
        broker = self.monitor.broker_display or redact(self.settings.broker_url)
        title = self.screen.TITLE or ""
        cluster = cluster_label(self.settings, self.monitor.app)
        return HeaderInfo(
            cluster=cluster,
            broker=broker,
            connected=status.connected,
            connection_note=note,
            events_per_second=rate,
            paused=self.paused,
            paused_new=self.paused_new,
            read_only=self.is_read_only,
            signing=signing.state_of(self.monitor.app).label,
            screen_title=title if isinstance(title, str) else "",
            malformed=status.malformed + self.monitor.state.malformed,
            replay=self._replay_text(note, status.connected),
        )

    def _replay_text(self, note: str, connected: bool) -> str:
        if self.replay is None:
            return ""
        banner = replay_banner(self.replay, self._tz)
        return banner if connected else f"{banner} · {note}"

    def _chrome(self, screen: Screen) -> tuple[list[HeaderBar], list[AlertBanner]]:
        """The screen's headers and banners, found once (a DOM query per tick costs ms)."""
        found = self._chrome_cache.get(screen)
        if found is None:
            found = (list(screen.query(HeaderBar)), list(screen.query(AlertBanner)))
            if found[0] or found[1]:
                self._chrome_cache[screen] = found
        return found

    def _refresh_header(self) -> None:
        info = self.header_info()
        for header in self._chrome(self.screen)[0]:
            header.show(info)

    def _refresh_banners(self) -> None:
        banners = self._chrome(self.screen)[1]
        if not banners:
            return
        alerts = self.monitor.alerts.active()
        status = self.monitor.events.status
        now = self.now()
        for banner in banners:
            banner.show(alerts, status, now)

    async def action_quit(self) -> None:
        """Quit at once: stop the pump, give the monitor a short while to stop, let the
        journal's recorder write what it holds (bounded), exit."""
        self._stopping.set()
        self.workers.cancel_group(self, "pump")
        self._stop_recording()
        if self._monitor_started:
            stopper = threading.Thread(target=self._stop_monitor, daemon=True)
            stopper.start()
            # the monitor's stop joins its threads; never wait long on a broker problem
            for _ in range(15):
                if not stopper.is_alive():
                    break
                await _sleep(0.1)
        if self._recorder is not None:  # q leaves no process behind
            await asyncio.to_thread(self._recorder.wait)
        self.exit()

    def _stop_monitor(self) -> None:
        try:
            self.monitor.stop(timeout=1.0)
        except Exception as exc:
            self.log.warning(f"monitor stop failed: {one_line(exc)}")
        self._monitor_started = False

    def on_unmount(self) -> None:
        self._stopping.set()
        if self._monitor_started:
            threading.Thread(target=self._stop_monitor, daemon=True).start()

    def _remember_theme(self, theme: Theme) -> None:
        """A theme picked in the palette ("Theme") is the one the next start uses."""
        if self.theme_memory is None:
            return
        try:
            self.theme_memory.remember(theme.name, self.settings.theme)
        except OSError as exc:
            self.log.warning(f"theme not remembered: {one_line(exc)}")

    # -- switching context (the steps are in celerytui.cluster_switch) ---------------------
    def mode_screens(self) -> dict[str, type[Screen]]:
        return {mode: cls for mode, (_key, _title, cls) in MODE_SCREENS.items()}

    def stop_pump(self) -> threading.Event:
        self._stopping.set()
        self.workers.cancel_group(self, "pump")
        return self._pump_ended

    def adopt_cluster(self, settings: Settings, monitor: MonitorView) -> None:
        self.settings, self.monitor = settings, monitor
        self._tz = _timezone(settings.timezone)
        self._fired.clear()
        self._seed_unregistered = None
        self.paused, self.paused_new = False, 0
        self._pending_full, self._drawn_screen = True, None
        self._chrome_cache = WeakKeyDictionary()
        self._monitor_started = self._redraw_failed = False
        self._stop_recording()  # (the old pump has stopped it already)
        # the new pump starts a recorder on the new cluster, once the old one has ended
        self._previous_recorder, self._recorder = self._recorder, None
        self._stopping, self._pump_ended = threading.Event(), threading.Event()
        self.refresh_bindings()
        self._pump_loop()

    # -- the ":" command line ---------------------------------------------------------------
    def action_command_line(self) -> None:
        focused = self.focused
        if isinstance(self.screen, ModalScreen) or (
            focused is not None and focused.check_consume_key("colon", ":")
        ):
            raise SkipAction()  # a ":" typed into a filter or a dialog is just a ":"
        screen = CommandLineScreen(list(MODE_SCREENS), self.context_names())
        self.push_screen(screen, self.run_command)

    def run_command(self, text: str | None) -> None:
        """Carry out one command line; a line that names nothing is one notice."""
        if text is None:
            return
        contexts = self.context_names()
        try:
            command = parse(text, list(MODE_SCREENS), contexts)
        except CommandLineError as exc:
            self.notify(str(exc), severity="warning")
            return
        if command is None:
            return
        if command.kind == "screen":
            self.switch_mode(command.arg)
        elif command.kind == "context":
            self.switch_context(command.arg)
        elif command.kind == "contexts":
            marked = [f"{name}*" if name == self.settings.context else name for name in contexts]
            self.notify(", ".join(marked) or "no contexts in the config file", title="contexts")
        elif command.kind == "help":
            self.action_help()
        else:
            self.call_later(self.action_quit)

    # -- read-only ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if hides(action, self.is_read_only) or self.replay_hides(action):
            return False
        if self.seed_unregistered(action):  # -A proj: its workers would discard the task
            return False
        if action == "rerun_selected":
            screen = self.screen
            return isinstance(screen, ClusterScreen) and screen.selected_task() is not None
        return True

    def refuse_if_read_only(self, what: str, *, sends_message: bool = True) -> bool:
        """True (and a notice) when --read-only forbids ``what``, or when ``what`` sends a
        task or control message to a signed cluster and this monitor has no key to sign it
        (celerytui.signing: the workers would drop it). Purging a queue sends no message."""
        if self.is_read_only:
            self.notify(refusal(what), severity="warning")
            return True
        unsigned = signing.state_of(self.monitor.app).refusal if sends_message else None
        if unsigned is not None:
            self.notify(f"{what}: {unsigned}", severity="error", markup=False, timeout=8)
            return True
        return False

    # -- pausing, help, alerts --------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self.paused_new = 0
            self._pending_full = True
        self._refresh_header()
        if not self.paused:
            self._draw_unpaused()

    def _draw_unpaused(self) -> None:
        """Draw everything now if the pump is not applying (it may not run meanwhile: a pump
        mid-apply broke the redraw, a deque mutated during iteration, ui_lag.py --journal);
        if it is, its round, due in a few ms, draws everything (``_pending_full``): waiting
        for the lock here held the UI loop for a whole apply (up to 100 ms at 10k events/s)."""
        lock = self.monitor.lock
        if not lock.acquire(blocking=False):
            return
        try:
            self._on_pumped(Changes())
        finally:
            lock.release()

    def action_acknowledge_alerts(self) -> None:
        with self.monitor.lock:
            self.monitor.alerts.acknowledge()
        self._refresh_banners()
        self.notify("alerts acknowledged")

    def action_help(self) -> None:
        from celerytui.screens.dialogs import HelpScreen

        self.push_screen(HelpScreen(self.binding_rows()))

    def binding_rows(self) -> list[tuple[str, str, str]]:
        """(key, description, where) for every binding of the app and the active screen."""
        rows: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        screen = self.screen if not isinstance(self.screen, ModalScreen) else self.screen_stack[-2]
        # the app's priority bindings (ctrl+c quits) hide the screen's on the same key
        overridden = {b.key for b in each_binding(self, self.keymap) if b.priority}
        for where, node in (("screen", screen), ("app", self)):
            for bindings in declared_bindings(node, self.keymap).values():
                for bound in bindings:
                    ident = f"{where}:{bound.action}"
                    if node is not self and bound.key in overridden:
                        continue
                    if ident in seen:
                        continue
                    seen.add(ident)
                    if not bound.description or bound.system:
                        continue
                    if node is self and (
                        hides(bound.action, self.is_read_only) or self.replay_hides(bound.action)
                    ):
                        continue
                    if node is self and self.seed_unregistered(bound.action):
                        continue
                    display = bound.key_display or self.get_key_display(bound)
                    rows.append((display, bound.description or bound.action, where))
        return rows

    # -- screens ---------------------------------------------------------------------------
    def show_task(self, uuid: str, *, at_traceback: bool = False) -> None:
        self.push_screen(TaskDetailScreen(uuid, at_traceback=at_traceback))

    def show_worker(self, hostname: str) -> None:
        self.push_screen(WorkerDetailScreen(hostname))

    @on(TaskChosen)
    def _open_task(self, message: TaskChosen) -> None:
        """Enter on a task row, on any screen: its detail (at the traceback for a failure)."""
        self.show_task(message.uuid, at_traceback=message.at_traceback)

    @on(WorkerChosen)
    def _open_worker(self, message: WorkerChosen) -> None:
        self.show_worker(message.hostname)


def make_app(settings: Settings, monitor: MonitorView | None = None, **extra: Any) -> CeleryTUI:
    """The app the CLI runs, the tests drive and the demo opens."""
    return CeleryTUI(settings, monitor, **extra)


# -- helpers --------------------------------------------------------------------------------
def _timezone(name: str | None):
    if not name:
        return None  # local time
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except Exception:
        return None


def _user_celery_app(settings: Settings):
    """The -A app when given (found by commands.app_loader), else None (Monitor builds one).

    A bad -A is a one-line click error (the CLI prints "Error: ..."), never a traceback."""
    if not settings.app:
        return None
    import click

    from celerytui.commands.app_loader import AppLoadError, load_app

    try:
        return load_app(settings)  # with --broker / --result-backend pinned on it
    except AppLoadError as exc:
        raise click.ClickException(str(exc)) from None


def _broker_of(monitor: MonitorView) -> str | None:
    """The watched app's broker URL (the journal's cluster name comes from it)."""
    app = monitor.app
    return str(app.conf.broker_url) if app is not None and app.conf.broker_url else None


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
