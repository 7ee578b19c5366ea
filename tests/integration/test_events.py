"""EventStream against a real Redis and real `celery worker` processes, on both lanes."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kombu.compression import compress
from kombu.utils.json import dumps as kombu_dumps

from celerytui.config import load_settings
from celerytui.core.events import EventStream
from celerytui.core.transports.redis_lane import EventDecoder
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
    return [t for t in threading.enumerate() if t.name.startswith("celerytui-events")]


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
    wait_for(
        lambda: got.has(
            lambda e: e["type"] == "worker-heartbeat" and e.get("hostname") == worker.hostname
        ),
        10,
        what="a heartbeat from the worker",
    )
    succeeded = next(
        e for e in got.events if e["type"] == "task-succeeded" and e["uuid"] == result.id
    )
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
    wait_for(
        lambda: "task-succeeded" in got.types_for(result.id),
        5,
        what="task events from a worker started without -E",
    )


@pytest.mark.parametrize("fast", LANES)
def test_read_only_does_not_switch_events_on(fast, celery_app, start_worker, open_stream):
    worker = start_worker("quiet", events=False, app=QUIET_APP)
    stream = open_stream(celery_app, read_only=True, fast_redis=fast)
    got = Collector(stream)
    wait_for(lambda: stream.status.connected, 10, what="stream connected")
    # the heartbeat broadcast is allowed read-only: the worker answers at once
    wait_for(
        lambda: got.has(
            lambda e: e["type"] == "worker-heartbeat" and e.get("hostname") == worker.hostname
        ),
        10,
        what="a heartbeat from the worker",
    )
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
        wait_for(
            lambda: got.has(lambda e: e.get("hostname") == "probe@x"),
            10,
            what="an event after the reconnect",
        )
    finally:
        stream.stop()
        app.close()
        server.cleanup()


@pytest.mark.parametrize("fast", LANES)
def test_unreachable_broker_reports_without_password(fast, open_stream):
    url = f"redis://monitor:s3cret-pw@127.0.0.1:{free_port()}/0"
    app = make_celery_app(load_settings(broker_url=url, result_backend=url))
    stream = open_stream(app, fast_redis=fast)
    status = wait_for(
        lambda: (s := stream.status).last_error and s.attempts >= 2 and s,
        15,
        what="a reported error",
    )
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
    dispatcher = celery_app.events.Dispatcher(celery_app.connection_for_write(), hostname="flood@x")
    for i in range(40):
        dispatcher.send("task-sent", uuid=f"flood-{i}", name="flood")
    wait_for(lambda: stream.status.events_received >= 40, 10, what="40 events received")
    status = stream.status
    assert status.events_dropped == status.events_received - 5
    assert len(stream.drain()) == 5
    dispatcher.close()


# -- the fast lane's decoder: kombu's envelope -> event dicts ----------------------------------


def envelope(body: bytes, content_type: str = "application/json", headers=None) -> bytes:
    """A kombu Redis fanout message as a worker publishes it (base64 body)."""
    return json.dumps(
        {
            "body": base64.b64encode(body).decode(),
            "content-encoding": "utf-8",
            "content-type": content_type,
            "headers": headers or {},
            "properties": {
                "delivery_mode": 2,
                "priority": 0,
                "body_encoding": "base64",
                "delivery_info": {"exchange": "celeryev", "routing_key": "task.multi"},
                "delivery_tag": "tag",
            },
        }
    ).encode()


def test_decoder_flattens_task_multi_and_stamps_like_the_receiver():
    decoder = EventDecoder()
    events = [
        {
            "type": "task-started",
            "uuid": "a",
            "clock": 7,
            "timestamp": 1000.0,
            "utcoffset": -2,
            "hostname": "w@h",
        },
        {"type": "task-sent", "uuid": "b", "clock": 99, "timestamp": 1000.0},
    ]
    out = decoder.decode(envelope(json.dumps(events).encode()), now=5.0, here=0.0)
    assert [e["type"] for e in out] == ["task-started", "task-sent"]
    assert all(e["local_received"] == 5.0 for e in out)
    assert out[0]["timestamp"] == 1000.0 + 2 * 3600  # localized as celery's adjust_timestamp
    assert out[1]["clock"] < 99  # a client's clock is not trusted, as in EventReceiver
    assert decoder.malformed == 0


def test_decoder_reads_compressed_and_typed_bodies_through_kombu():
    decoder = EventDecoder()
    body, ctype = compress(
        json.dumps({"type": "worker-heartbeat", "hostname": "w"}).encode(), "zlib"
    )
    out = decoder.decode(envelope(body, headers={"compression": ctype}), 1.0, 0.0)
    assert [e["hostname"] for e in out] == ["w"]
    typed = kombu_dumps({"type": "task-sent", "uuid": "c", "eta": datetime(2026, 1, 1)})
    out = decoder.decode(envelope(typed.encode()), 1.0, 0.0)
    assert out[0]["eta"] == datetime(2026, 1, 1)


def test_decoder_skips_and_counts_what_it_cannot_read():
    decoder = EventDecoder()
    bad = [
        b"",
        b"not json",
        b"[]",
        b'{"body": 5}',
        envelope(b"\x80\x04pickle", "application/x-python-serialize"),
        envelope(b'{"no": "type"}'),
        envelope(b"[1, 2]"),
        envelope(b"{broken"),
    ]
    assert [decoder.decode(data, 1.0, 0.0) for data in bad] == [[]] * len(bad)
    assert decoder.malformed == len(bad) + 1  # the list [1, 2] holds two bad events


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda kids: (
                st.lists(kids, max_size=4)
                | st.dictionaries(
                    st.sampled_from(["type", "clock", "timestamp", "utcoffset", "uuid"]),
                    kids,
                    max_size=5,
                )
            ),
            max_leaves=12,
        ).map(lambda v: envelope(json.dumps(v).encode())),
    )
)
def test_decoder_never_raises(data):
    decoder = EventDecoder()
    out = decoder.decode(data, 1.0, 0.0)
    assert all(isinstance(e, dict) and isinstance(e["type"], str) for e in out)


def relay_processes() -> list[int]:
    """Live relay processes started by this test process (see core/transports/redis_relay.py)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and b"queue, size, eof" in cmdline:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("fast", LANES)
def test_global_keyprefix_is_honoured(fast, redis_urls, open_stream):
    broker, backend = redis_urls
    app = make_celery_app(load_settings(broker_url=broker, result_backend=backend))
    app.conf.broker_transport_options = {"global_keyprefix": "tenant-a:"}
    try:
        stream = open_stream(app, fast_redis=fast)
        got = Collector(stream)
        wait_for(lambda: stream.status.connected, 10, what="stream connected")
        with app.events.Dispatcher(app.connection_for_write(), hostname="prefixed@x") as d:
            d.send("worker-heartbeat", freq=2.0)
        wait_for(
            lambda: got.has(lambda e: e.get("hostname") == "prefixed@x"),
            10,
            what="an event published under the key prefix",
        )
    finally:
        app.close()


def test_fast_lane_skips_non_json_events_and_carries_on(celery_app, open_stream):
    stream = open_stream(celery_app)
    got = Collector(stream)
    wait_for(lambda: stream.status.connected, 10, what="stream connected")
    conn = celery_app.connection_for_write()
    with celery_app.events.Dispatcher(conn, hostname="pickler@x", serializer="pickle") as d:
        d.send("worker-heartbeat", freq=2.0)
    with celery_app.events.Dispatcher(conn, hostname="jsoner@x") as d:
        d.send("worker-heartbeat", freq=2.0)
    wait_for(
        lambda: got.has(lambda e: e.get("hostname") == "jsoner@x"),
        10,
        what="the JSON event after the pickled one",
    )
    assert stream.malformed == 1
    assert not got.has(lambda e: e.get("hostname") == "pickler@x")
    conn.release()


def test_the_relay_process_goes_away_with_the_stream(celery_app, open_stream):
    stream = open_stream(celery_app)
    wait_for(lambda: stream.status.connected, 10, what="stream connected")
    assert len(relay_processes()) == 1
    stream.stop()
    assert relay_processes() == []


def test_stop_is_prompt_in_the_middle_of_a_flood(redis_urls, celery_app, open_stream):
    import redis

    stream = open_stream(celery_app)
    wait_for(lambda: stream.status.connected, 10, what="stream connected")
    broker = redis_urls[0]
    client = redis.Redis.from_url(broker)
    channel = f"/{broker.rsplit('/', 1)[1]}.celeryev/task.multi"
    batch = [
        {
            "type": "task-started",
            "uuid": f"t{i}",
            "hostname": "flood@x",
            "clock": i,
            "timestamp": 1.0,
            "utcoffset": 0,
        }
        for i in range(24)
    ]
    payload = envelope(json.dumps(batch).encode())
    pipe = client.pipeline(transaction=False)
    for _ in range(4000):
        pipe.publish(channel, payload)
    pipe.execute()
    wait_for(lambda: stream.status.events_received > 0, 10, what="the flood to arrive")
    started = time.monotonic()
    stream.stop()
    assert time.monotonic() - started < 2.0
    assert not receiver_threads() and relay_processes() == []
    client.close()


@pytest.mark.parametrize("fast", LANES)
def test_a_worker_started_later_is_switched_on_by_the_periodic_broadcast(
    fast, celery_app, start_worker, open_stream
):
    stream = open_stream(celery_app, fast_redis=fast, enable_interval=1.0)
    got = Collector(stream)
    wait_for(lambda: stream.status.connected, 10, what="stream connected")
    start_worker("late", events=False, app=QUIET_APP)  # after the broadcast on connect

    def task_events_flow() -> bool:
        result = celery_app.send_task("celerytui.tasks.validate_order", (9,))
        result.get(timeout=15)
        return wait_for_quietly(lambda: "task-succeeded" in got.types_for(result.id), 1.0)

    wait_for(
        task_events_flow,
        15,
        interval=0.1,
        what="task events from a worker that missed the first enable_events",
    )


def wait_for_quietly(predicate, timeout: float) -> bool:
    try:
        wait_for(predicate, timeout)
    except AssertionError:
        return False
    return True


def test_a_broker_that_accepts_and_never_answers_is_reported(open_stream):
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel accepts connections; nobody ever answers them
    url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
    app = make_celery_app(load_settings(broker_url=url, result_backend=url))
    try:
        stream = open_stream(app)
        status = wait_for(
            lambda: (s := stream.status).last_error and s, 10, what="the hang to be reported"
        )
        assert not status.connected and "timeout" in status.last_error.lower()
        started = time.monotonic()
        stream.stop()
        assert time.monotonic() - started < 2.5
    finally:
        silent.close()
        app.close()
