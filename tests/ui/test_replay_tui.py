"""`celerytui replay` in the TUI, driven with Pilot: a real SQLite journal of a known stream,
the whole app on a ReplayMonitor. The header says REPLAY with the replayed time and speed;
space, ] } [ g + - move it and every screen follows; keys that would change the cluster are
refused, and nothing talks to a broker."""

from __future__ import annotations

from datetime import UTC, datetime

from celerytui.app import make_app
from celerytui.core.journal import open_store
from celerytui.core.journal_source import JournalSource
from celerytui.core.replay_clock import ReplayClock
from celerytui.core.replay_monitor import OFFLINE_BROKER, ReplayMonitor, replay_settings
from celerytui.screens.dialogs import PromptDialog
from celerytui.screens.palette import action_commands
from celerytui.screens.tasks import TasksScreen
from celerytui.screens.workers import WorkersScreen
from tests.support.replay_journals import record_synthetic
from tests.support.screens_ui import notices, until
from tests.ui.screen_text import screen_text
from tests.ui.synthetic_cluster import snapshot_settings


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


async def test_replay_keys_move_the_time_and_actions_are_refused(tmp_path) -> None:
    recorded = record_synthetic(str(tmp_path / "j.sqlite3"), n=8_000, rate=80.0)
    t0, t1 = recorded.span  # ~100 s of cluster
    reader = open_store(recorded.spec, cluster="x", write=False)
    clock = ReplayClock(t0 + 20, t1, playing=False)
    settings = replay_settings(snapshot_settings())
    monitor = ReplayMonitor(settings, JournalSource(reader, clock), clock, "journal j.sqlite3")
    app = make_app(settings, monitor, replay=clock)
    try:
        async with app.run_test(size=(100, 30)) as pilot:

            async def shows(at: float, what: str) -> None:
                await until(pilot, lambda: _stamp(at) in screen_text(app), what=what)

            def kept() -> int:
                return len(monitor.state.tasks)

            await shows(t0 + 20, "the header's replayed time")
            listed = {c.help for c in action_commands(app, app.screen)}
            assert {"action: replay_toggle", "action: replay_goto"} <= listed  # the palette
            # the first rebuild may still be running ("seeking…") when the time is drawn
            await until(pilot, lambda: "x1 paused" in screen_text(app), what="seek to settle")
            text = screen_text(app)
            assert "REPLAY" in text and "read-only" in text
            await until(pilot, lambda: kept() == len(recorded.state_at(t0 + 20).tasks))
            await pilot.press("right_square_bracket")  # ] +10 s
            await shows(t0 + 30, "+10 s")
            await until(pilot, lambda: kept() == len(recorded.state_at(t0 + 30).tasks))
            await pilot.press("right_curly_bracket")  # } +1 min
            await shows(t0 + 90, "+1 min")
            resets = monitor.resets
            await pilot.press("left_square_bracket")  # [ back 10 s: rebuilt from a checkpoint
            await shows(t0 + 80, "-10 s")
            await until(pilot, lambda: monitor.resets > resets, what="the rebuild")
            await until(pilot, lambda: "seeking" not in screen_text(app), what="settled")
            await until(pilot, lambda: kept() == len(recorded.state_at(t0 + 80).tasks))
            # g: go to a time typed in a dialog
            await pilot.press("g")
            dialog = await until(pilot, lambda: isinstance(app.screen, PromptDialog) and app.screen)
            target = datetime.fromtimestamp(t0 + 45, UTC).replace(tzinfo=None)
            dialog.query_one("#field-at").value = target.isoformat(timespec="seconds") + "Z"
            await pilot.press("enter")
            await shows(t0 + 45, "go to")
            # speed and play
            await pilot.press("plus", "plus")
            await until(pilot, lambda: "x4 paused" in screen_text(app), what="x4")
            await pilot.press("minus")
            await pilot.press("space")
            await until(pilot, lambda: "x2 ▶" in screen_text(app), what="playing at x2")
            await until(pilot, lambda: clock.now() > t0 + 46, what="time moving")
            await pilot.press("space")
            assert not clock.playing
            # the Tasks screen shows the replayed cluster; an action key is refused
            await pilot.press("2")
            screen = await until(pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen)
            await until(pilot, lambda: screen.table.row_count > 0, what="task rows")
            await pilot.press("x")
            await until(pilot, lambda: "read-only: revoke refused" in notices(app))
            # on Workers, + is the replay's speed, not a pool grow
            await pilot.press("4")
            await until(pilot, lambda: isinstance(app.screen, WorkersScreen))
            speed = clock.speed
            await pilot.press("plus")
            await until(pilot, lambda: clock.speed == speed * 2, what="+ on Workers")
            assert not any("pool grow" in n for n in notices(app))
            # no broker: an in-process transport, no result watcher, no poller thread
            assert monitor.app.conf.broker_url == OFFLINE_BROKER
            assert monitor.results is None and not monitor._threads
            assert monitor.controller.read_only
    finally:
        reader.close()
