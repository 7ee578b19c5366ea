"""A hung broker is a down broker: Redis stopped with SIGSTOP keeps its sockets open and answers
nothing. Within 10 s both lanes, the exporter (/healthz 503, celerytui_broker_connected 0) and
the TUI's banner say so; within 5 s of SIGCONT all are back, and no event is counted twice."""

from __future__ import annotations

import json
import time

import pytest
import redis

from celerytui.config import load_settings
from celerytui.core.events import EventStream
from celerytui.tasks import make_celery_app
from tests.support.commands import LineReader, start_celerytui
from tests.support.event_wire import channel_of, event_message, good_task, wait_subscribed
from tests.support.exporter_http import get, metric
from tests.support.freezing import freeze, thaw
from tests.support.services import RedisServer, free_port, service_missing, stop_process, wait_for

pytestmark = pytest.mark.redis

LANES = [pytest.param(False, id="kombu"), pytest.param(True, id="fast")]
DETECT_WITHIN = 10.0  # seconds from SIGSTOP until every consumer says the broker is down
RECOVER_WITHIN = 5.0  # seconds from SIGCONT until every consumer is back


class HungRedis:
    """A redis-server of this test's own, to stop (SIGSTOP) and continue (SIGCONT)."""

    def __init__(self) -> None:
        try:
            self.server = RedisServer().start()
        except (ImportError, AssertionError, OSError) as exc:
            service_missing(f"embedded redis-server ({exc})")
        self.url = f"redis://127.0.0.1:{self.server.port}/0"
        self.backend = f"redis://127.0.0.1:{self.server.port}/1"
        self.client = redis.Redis.from_url(self.url)
        self.stopped = False

    def stop(self) -> float:
        stopped = freeze(self.server.proc.pid)
        self.stopped = True
        return stopped

    def cont(self) -> float:
        resumed = thaw(self.server.proc.pid)
        self.stopped = False
        return resumed

    def publish_tasks(self, prefix: str, n: int) -> list[str]:
        uuids = [f"{prefix}-{i}" for i in range(n)]
        for uuid in uuids:
            self.client.publish(channel_of(self.url), event_message(good_task(uuid)))
        return uuids

    def close(self) -> None:
        if self.stopped:
            self.cont()
        self.client.close()
        self.server.cleanup()


@pytest.fixture
def hung_redis():
    server = HungRedis()
    yield server
    server.close()


def _within(seconds: float, since: float, predicate, what: str):
    """wait_for with the deadline counted from ``since`` (the signal), not from now."""
    return wait_for(
        predicate,
        max(0.1, since + seconds - time.monotonic()),
        interval=0.1,
        what=f"{what} within {seconds:g} s",
    )


@pytest.mark.parametrize("fast", LANES)
def test_both_lanes_call_a_hung_broker_down_and_come_back(fast, hung_redis):
    app = make_celery_app(
        load_settings(broker_url=hung_redis.url, result_backend=hung_redis.backend)
    )
    stream = EventStream(app, read_only=True, fast_redis=fast)
    stream.start()
    got: list[dict] = []
    try:
        wait_for(lambda: stream.status.connected, 15, what="stream connected")
        wait_subscribed(hung_redis.client, hung_redis.url)
        before = hung_redis.publish_tasks("before", 20)
        wait_for(
            lambda: got.extend(stream.drain()) or {e.get("uuid") for e in got} >= set(before),
            10,
            what="the first tasks",
        )

        stopped = hung_redis.stop()
        status = _within(
            DETECT_WITHIN,
            stopped,
            lambda: (s := stream.status).connected is False and s,
            "the stream to call the broker down",
        )
        assert "not answering" in status.last_error

        resumed = hung_redis.cont()
        _within(RECOVER_WITHIN, resumed, lambda: stream.status.connected, "the stream to reconnect")
        wait_subscribed(hung_redis.client, hung_redis.url, timeout=5)
        after = hung_redis.publish_tasks("after", 20)
        wait_for(
            lambda: got.extend(stream.drain()) or {e.get("uuid") for e in got} >= set(after),
            10,
            what="the later tasks",
        )
    finally:
        stream.stop()
        app.close()
    task_events = [(e["uuid"], e["type"]) for e in got if e["type"].startswith("task-")]
    assert len(task_events) == len(set(task_events)) == 3 * 40  # every one once, none twice
    assert stream.status.reconnects == 1


def test_exporter_healthz_and_broker_connected_follow_a_hung_broker(hung_redis):
    port = free_port()
    proc = start_celerytui(
        "exporter",
        "--port",
        str(port),
        "-b",
        hung_redis.url,
        "--result-backend",
        hung_redis.backend,
    )
    err = LineReader(proc.stderr)
    healthz = f"http://127.0.0.1:{port}/healthz"
    succeeded = "celery_task_succeeded_total"
    try:
        err.wait_for(
            lambda line: f"127.0.0.1:{port}/metrics" in line, 20, what="exporter to listen"
        )
        wait_for(lambda: get(healthz)[0] == 200, 15, what="/healthz 200")
        wait_subscribed(hung_redis.client, hung_redis.url)
        before = hung_redis.publish_tasks("before", 10)
        wait_for(
            lambda: metric(port, succeeded, name="wire.good") == len(before),
            10,
            what="the first tasks counted",
        )

        stopped = hung_redis.stop()
        _within(DETECT_WITHIN, stopped, lambda: get(healthz)[0] == 503, "/healthz 503")
        assert metric(port, "celerytui_broker_connected") == 0
        body = json.loads(get(healthz)[1])
        assert body["connected"] is False and body["last_error"]

        resumed = hung_redis.cont()
        _within(
            RECOVER_WITHIN,
            resumed,
            lambda: get(healthz)[0] == 200 and metric(port, "celerytui_broker_connected") == 1,
            "/healthz 200 again",
        )
        wait_subscribed(hung_redis.client, hung_redis.url, timeout=5)
        after = hung_redis.publish_tasks("after", 10)
        total = len(before) + len(after)
        wait_for(
            lambda: metric(port, succeeded, name="wire.good") == total,
            10,
            what="the later tasks counted",
        )
        # a last task as a marker: once it is counted, anything counted twice would show
        marker = hung_redis.publish_tasks("marker", 1)
        wait_for(
            lambda: metric(port, succeeded, name="wire.good") == total + len(marker),
            10,
            what="the marker task counted",
        )
        assert metric(port, "celery_task_received_total", name="wire.good") == total + 1
        assert metric(port, "celerytui_broker_reconnects_total") == 1
    finally:
        stop_process(proc)


async def test_tui_banner_follows_a_hung_broker(hung_redis):
    from celerytui.app import make_app
    from tests.ui.conftest import wait_until
    from tests.ui.screen_text import screen_text

    banner = "broker unreachable, retrying"
    app = make_app(
        load_settings(broker_url=hung_redis.url, result_backend=hung_redis.backend, read_only=True)
    )
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(
            pilot, lambda: "● connected" in screen_text(app), timeout=15, what="connected"
        )
        stopped = hung_redis.stop()
        await wait_until(
            pilot,
            lambda: banner in screen_text(app),
            what="the banner",
            timeout=max(0.1, stopped + DETECT_WITHIN - time.monotonic()),
        )
        assert "not answering" in screen_text(app)
        assert "○ reconnecting" in screen_text(app).splitlines()[0]
        resumed = hung_redis.cont()
        await wait_until(
            pilot,
            lambda: banner not in screen_text(app) and "● connected" in screen_text(app),
            what="the banner to clear",
            timeout=max(0.1, resumed + RECOVER_WITHIN - time.monotonic()),
        )
