"""EventStream against a real Redis and real `celery worker` processes, on both lanes."""

from __future__ import annotations

import threading
import time

import pytest

from celerytui.config import load_settings
from celerytui.core.events import EventStream
from celerytui.tasks import make_celery_app
from tests.support.services import RedisServer, free_port, wait_for

pytestmark = pytest.mark.redis

QUIET_APP = "tests.support.events_apps:quiet_app"  # a worker that sends no task events
LANES = [pytest.param(False, id="kombu"), pytest.param(True, id="fast")]


class Collector:
    """Drains a stream the way a consumer does and keeps what it saw."""

    def __init__(self, stream: EventStream):
        self.stream = stream
        self.events: list[dict] = []

    def pull(self) -> list[dict]:
        self.events.extend(self.stream.drain())
        return self.events

    def types_for(self, uuid: str) -> set[str]:
        return {e["type"] for e in self.pull() if e.get("uuid") == uuid}

    def has(self, predicate) -> bool:
        return any(predicate(e) for e in self.pull())


@pytest.fixture
def open_stream():
    """Factory for started EventStreams that are always stopped at the end."""
    streams: list[EventStream] = []

    def make(app, **kwargs) -> EventStream:
        stream = EventStream(app, **kwargs)
        streams.append(stream)
        stream.start()
        return stream

    yield make
    for stream in streams:
        stream.stop()


def receiver_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "celerytui-events"]


@pytest.mark.parametrize("fast", LANES)
def test_task_and_worker_events_from_a_real_worker(fast, celery_app, start_worker, open_stream):
    worker = start_worker("ev")
    stream = open_stream(celery_app, fast_redis=fast)
    assert stream.lane == ("redis" if fast else "kombu")
    wait_for(lambda: stream.status.connected, 10, what="stream connected")
    got = Collector(stream)

    result = celery_app.send_task("celerytui.tasks.send_email", ("a@example.com", "hi"))
    assert result.get(timeout=15) is not None

    want = {"task-sent", "task-received", "task-started", "task-succeeded"}
    wait_for(lambda: want <= got.types_for(result.id), 10, what=f"{want} for the task")
    wait_for(lambda: got.has(lambda e: e["type"] == "worker-heartbeat"
                             and e.get("hostname") == worker.hostname), 10,
             what="a heartbeat from the worker")
    succeeded = next(e for e in got.events
                     if e["type"] == "task-succeeded" and e["uuid"] == result.id)
    assert succeeded["hostname"] == worker.hostname
    assert abs(succeeded["local_received"] - time.time()) < 30
    status = stream.status
    assert status.connected and status.events_received >= len(got.events)
    assert status.events_dropped == 0


@pytest.mark.parametrize("fast", LANES)
def test_worker_without_events_is_switched_on(fast, celery_app, start_worker, open_stream):
    start_worker("quiet", events=False, app=QUIET_APP)
    stream = open_stream(celery_app, fast_redis=fast)
    got = Collector(stream)
    wait_for(lambda: stream.status.connected, 10, what="stream connected")
    # enable_events is broadcast on connect; the worker's reply is its first task event
    deadline = time.monotonic() + 15
    while True:
        result = celery_app.send_task("celerytui.tasks.validate_order", (7,))
        result.get(timeout=15)
        if "task-succeeded" in got.types_for(result.id) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    wait_for(lambda: "task-succeeded" in got.types_for(result.id), 5,
             what="task events from a worker started without -E")


@pytest.mark.parametrize("fast", LANES)
def test_read_only_does_not_switch_events_on(fast, celery_app, start_worker, open_stream):
    worker = start_worker("quiet", events=False, app=QUIET_APP)
    stream = open_stream(celery_app, read_only=True, fast_redis=fast)
    got = Collector(stream)
    wait_for(lambda: stream.status.connected, 10, what="stream connected")
    # the heartbeat broadcast is allowed read-only: the worker answers at once
    wait_for(lambda: got.has(lambda e: e["type"] == "worker-heartbeat"
                             and e.get("hostname") == worker.hostname), 10,
             what="a heartbeat from the worker")
    result = celery_app.send_task("celerytui.tasks.validate_order", (8,))
    result.get(timeout=15)
    wait_for(lambda: "task-sent" in got.types_for(result.id), 5, what="task-sent")
    time.sleep(0.5)  # give a wrongly enabled worker time to send; nothing to poll for
    assert got.types_for(result.id) == {"task-sent"}


@pytest.mark.parametrize("fast", LANES)
def test_stop_is_prompt_and_leaves_no_thread(fast, celery_app, open_stream):
    stream = open_stream(celery_app, fast_redis=fast)
    wait_for(lambda: stream.status.connected, 10, what="stream connected")
    started = time.monotonic()
    stream.stop()
    assert time.monotonic() - started < 2.0
    assert not receiver_threads()
    assert not stream.status.connected


@pytest.mark.parametrize("fast", LANES)
def test_reconnects_after_the_broker_restarts(fast, open_stream):
    server = RedisServer(port=free_port()).start()
    url = f"redis://127.0.0.1:{server.port}/0"
    app = make_celery_app(load_settings(broker_url=url, result_backend=url))
    try:
        stream = open_stream(app, fast_redis=fast)
        got = Collector(stream)
        wait_for(lambda: stream.status.connected, 10, what="stream connected")
        server.stop()
        wait_for(lambda: not stream.status.connected, 10, what="stream to notice")
        down = stream.status
        assert down.since is not None and down.last_error
        assert "\n" not in down.last_error
        server.start()
        wait_for(lambda: stream.status.connected, 15, what="stream reconnected")
        assert stream.status.reconnects >= 1
        with app.events.Dispatcher(app.connection_for_write(), hostname="probe@x") as probe:
            probe.send("worker-heartbeat", freq=2.0)
        wait_for(lambda: got.has(lambda e: e.get("hostname") == "probe@x"), 10,
                 what="an event after the reconnect")
    finally:
        stream.stop()
        app.close()
        server.cleanup()


@pytest.mark.parametrize("fast", LANES)
def test_unreachable_broker_reports_without_password(fast, open_stream):
    url = f"redis://monitor:s3cret-pw@127.0.0.1:{free_port()}/0"
    app = make_celery_app(load_settings(broker_url=url, result_backend=url))
    stream = open_stream(app, fast_redis=fast)
    status = wait_for(lambda: (s := stream.status).last_error and s.attempts >= 2 and s, 15,
                      what="a reported error")
    assert not status.connected
    assert "s3cret-pw" not in status.last_error and "s3cret-pw" not in status.broker
    assert "\n" not in status.last_error
    assert stream.running  # it keeps trying; nothing was raised to the caller
    stream.stop()
    assert not receiver_threads()
    app.close()


@pytest.mark.parametrize("fast", LANES)
def test_drops_are_counted_when_the_consumer_never_drains(fast, celery_app, open_stream):
    stream = open_stream(celery_app, fast_redis=fast, max_pending=5)
    wait_for(lambda: stream.status.connected, 10, what="stream connected")
    dispatcher = celery_app.events.Dispatcher(celery_app.connection_for_write(),
                                              hostname="flood@x")
    for i in range(40):
        dispatcher.send("task-sent", uuid=f"flood-{i}", name="flood")
    wait_for(lambda: stream.status.events_received >= 40, 10, what="40 events received")
    status = stream.status
    assert status.events_dropped == status.events_received - 5
    assert len(stream.drain()) == 5
    dispatcher.close()
