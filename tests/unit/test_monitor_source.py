"""The Monitor runs from any EventSource: here a recording, with no broker anywhere."""

from __future__ import annotations

from celerytui.config import load_settings
from celerytui.core.event_source import EventSource
from celerytui.core.monitor import Monitor
from tests.support.cluster_events import T0, FakeClock, failed, heartbeat, received, succeeded
from tests.support.recorded_source import RecordedEvents
from tests.support.services import wait_for

RECORDING = [
    heartbeat("celery@w1", T0, processed=0, kind="online"),
    received("t-1", T0 + 1, name="proj.add"),
    succeeded("t-1", T0 + 2, result="5"),
    received("t-2", T0 + 3, name="proj.charge", args="('order 1001',)"),
    failed("t-2", T0 + 4, exception="ValueError('card declined')"),
]


def settings():
    # nothing listens at this port: whatever the monitor shows came from the recording
    return load_settings(env={}, broker_url="redis://127.0.0.1:9/0", result_backend="rpc://")


def test_a_monitor_fed_by_a_recording_shows_its_tasks_and_workers():
    source = RecordedEvents(RECORDING)
    assert isinstance(source, EventSource)
    monitor = Monitor(settings(), clock=FakeClock(T0 + 5), source=source)
    assert monitor.events is source
    monitor.start(poll=False)
    try:
        changes = monitor.pump()
        tasks = monitor.state.tasks
        assert (tasks["t-1"].state, tasks["t-1"].result) == ("SUCCESS", "5")
        assert (tasks["t-2"].state, tasks["t-2"].exception) == (
            "FAILURE",
            "ValueError('card declined')",
        )
        assert "celery@w1" in monitor.state.workers
        assert "t-2" in changes.new_failures
        assert monitor.events.status.connected
    finally:
        monitor.stop()
    assert not monitor.events.status.connected


def test_headless_pumping_reads_the_recording_too():
    monitor = Monitor(settings(), clock=FakeClock(T0 + 5), source=RecordedEvents(RECORDING))
    monitor.start(poll=False)
    monitor.run_in_thread(interval=0.05)
    try:

        def both_done():
            with monitor.lock:
                return {t.state for t in monitor.state.tasks.values()} == {"SUCCESS", "FAILURE"}

        wait_for(both_done, 5, what="the recorded tasks")
    finally:
        monitor.stop()
