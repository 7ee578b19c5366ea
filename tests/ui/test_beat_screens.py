"""What the Schedule and Queues screens say of beat runs and waits: an entry missing now
(counts, "!", the status line), an app that sends no task-sent events said plainly on both
screens instead of a guess. A real ClusterState and BeatWatch fed synthetic beat sends."""

from __future__ import annotations

from celerytui.app import make_app
from celerytui.core.queues import QueueDepth
from tests.support.proj_app import ADD_EVERY, make_proj_app
from tests.ui.screen_text import screen_text
from tests.ui.snapshot_app import until_drawn
from tests.ui.synthetic_cluster import NOW, build_monitor, fixed_clock, snapshot_settings
from tests.ui.test_screens_schedule import _sent


def _app(sent_events: bool = True, sends: tuple[float, ...] = ()):
    monitor = build_monitor()
    proj = make_proj_app("redis://127.0.0.1:1/0")
    proj.conf.task_send_sent_event = sent_events
    monitor.app = proj
    watch = monitor.beats
    for i, at in enumerate(sends):
        changes = monitor.state.apply([_sent(f"beat-{i}", "proj.add", "(2, 2)", at)])
        watch.observe(monitor.state.tasks, changes.tasks)
    watch.advance(NOW)
    settings = snapshot_settings(app="tests.support.proj_app")
    return make_app(settings, monitor, start_monitor=False, clock=fixed_clock)


async def _screen(app, key: str, width: int = 100) -> str:
    async with app.run_test(size=(width, 24)) as pilot:
        await until_drawn(pilot)
        await pilot.press(key)
        await until_drawn(pilot)
        return screen_text(app)


async def test_an_entry_missing_now_shows_its_counts_and_the_status_says_so():
    # runs seen 5 intervals ago and 4 ago, then nothing: 3 windows closed (grace 15 s)
    app = _app(sends=(NOW - 5 * ADD_EVERY, NOW - 4 * ADD_EVERY))
    text = await _screen(app, "6")
    status = text.splitlines()[1]
    assert status.strip().startswith("1 beat entry of tests.support.proj_app · 1 missing now")
    row = next(line for line in text.splitlines() if "add-every-30s" in line)
    assert "22:16:20" in row  # the last run seen (NOW - 120 s)
    assert row.rstrip().endswith("3/0 !")


async def test_without_task_sent_events_both_screens_say_so_plainly():
    app = _app(sent_events=False, sends=(NOW - 200,))
    text = await _screen(app, "6", width=160)
    assert "sends no task-sent events (task_send_sent_event off)" in text
    assert "missed and late runs cannot be seen" in text
    row = next(line for line in text.splitlines() if "add-every-30s" in line)
    assert row.split()[-1] == "-"  # no counts shown, rather than zeros that mean nothing

    app = _app(sent_events=False)
    app.monitor.queue_depths = [QueueDepth("celery", 7, None, {0: 7})]
    text = await _screen(app, "5", width=120)
    assert "oldest wait ?: no task-sent events" in text
    row = next(line for line in text.splitlines() if line.strip().startswith("celery"))
    assert row.split()[:3] == ["celery", "7", "?"]
