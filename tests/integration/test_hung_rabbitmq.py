"""A hung broker is a down broker, RabbitMQ too: a private node of this module (never the
machine's shared one) stopped with SIGSTOP keeps its sockets open and answers nothing. Within
10 s the kombu lane (RabbitMQ's only one), the exporter (/healthz 503,
celerytui_broker_connected 0) and the TUI's banner say so; within 5 s of SIGCONT all are back,
and no event is counted twice."""

from __future__ import annotations

import json
import time

import pytest
from kombu import Connection

from celerytui.config import load_settings
from celerytui.core.events import EventStream
from celerytui.tasks import make_celery_app
from tests.support.commands import LineReader, start_celerytui
from tests.support.event_wire import good_task
from tests.support.exporter_http import get, metric
from tests.support.services import (
    RabbitMQServer,
    free_port,
    rabbitmq_server_binary,
    service_missing,
    stop_process,
    wait_for,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.redis]  # the result backend is a Redis

DETECT_WITHIN = 10.0  # seconds from SIGSTOP until every consumer says the broker is down
RECOVER_WITHIN = 5.0  # seconds from SIGCONT until every consumer is back


@pytest.fixture(scope="module")
def rabbit_node():
    """One private node for the module (a start costs ~10 s)."""
    if rabbitmq_server_binary() is None:
        service_missing("rabbitmq-server (for a private RabbitMQ node)")
    node = RabbitMQServer()
    try:
        node.start()
    except (AssertionError, OSError) as exc:
        node.cleanup()
        service_missing(f"a private RabbitMQ node ({exc})")
    yield node
    node.cleanup()


@pytest.fixture
def rabbit(rabbit_node):
    """The module's node, answering; continued after the test whatever happened."""
    yield rabbit_node
    if rabbit_node.paused:
        rabbit_node.resume()


def publish_tasks(url: str, prefix: str, n: int) -> list[str]:
    """``n`` tasks (received, started, succeeded as one task.multi) on the event exchange, as
    a worker publishes them."""
    from celery.events.event import get_exchange

    uuids = [f"{prefix}-{i}" for i in range(n)]
    with Connection(url, connect_timeout=5) as conn:
        exchange = get_exchange(conn)
        producer = conn.Producer(serializer="json")
        for uuid in uuids:
            producer.publish(
                good_task(uuid), exchange=exchange, routing_key="task.multi", declare=[exchange]
            )
    return uuids


def _within(seconds: float, since: float, predicate, what: str):
    """wait_for with the deadline counted from ``since`` (the signal), not from now."""
    return wait_for(
        predicate,
        max(0.1, since + seconds - time.monotonic()),
        interval=0.1,
        what=f"{what} within {seconds:g} s",
    )


def test_the_kombu_lane_calls_a_hung_rabbitmq_down_and_comes_back(rabbit, redis_urls):
    app = make_celery_app(load_settings(broker_url=rabbit.url, result_backend=redis_urls[1]))
    stream = EventStream(app, read_only=True)  # fast lane asked for: RabbitMQ has only kombu's
    assert stream.lane == "kombu"
    stream.start()
    got: list[dict] = []
    try:
        wait_for(lambda: stream.status.connected, 15, what="stream connected")
        before = publish_tasks(rabbit.url, "before", 20)
        wait_for(
            lambda: got.extend(stream.drain()) or {e.get("uuid") for e in got} >= set(before),
            10,
            what="the first tasks",
        )

        stopped = rabbit.pause()
        status = _within(
            DETECT_WITHIN,
            stopped,
            lambda: (s := stream.status).connected is False and s,
            "the stream to call the broker down",
        )
        assert "not answering" in status.last_error
        # frozen on: a reconnect attempt waits out its timeout (the node accepts, says nothing)
        wait_for(lambda: stream.status.attempts >= 2, 10, what="a reconnect attempt that failed")
        assert stream.status.connected is False

        resumed = rabbit.resume()
        _within(RECOVER_WITHIN, resumed, lambda: stream.status.connected, "the stream to reconnect")
        after = publish_tasks(rabbit.url, "after", 20)
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


def test_exporter_healthz_and_broker_connected_follow_a_hung_rabbitmq(
    rabbit, redis_urls, start_worker
):
    """A real worker's tasks, before and after the freeze: each counted once."""
    backend = redis_urls[1]
    app = make_celery_app(load_settings(broker_url=rabbit.url, result_backend=backend))
    worker = start_worker("frozen-rabbit", wait=False, urls=(rabbit.url, backend), queues="celery")
    worker.wait_ready(app)
    validate = app.tasks["celerytui.tasks.validate_order"]

    def run_tasks(first: int, n: int) -> None:
        results = [validate.delay(first + i) for i in range(n)]
        assert [r.get(timeout=20)["order_id"] for r in results] == list(range(first, first + n))

    port = free_port()
    proc = start_celerytui(
        "exporter", "--port", str(port), "-b", rabbit.url, "--result-backend", backend
    )
    err = LineReader(proc.stderr)
    healthz = f"http://127.0.0.1:{port}/healthz"
    task = "celerytui.tasks.validate_order"

    def counted(kind: str) -> float:
        return metric(port, f"celery_task_{kind}_total", name=task)

    try:
        err.wait_for(
            lambda line: f"127.0.0.1:{port}/metrics" in line, 20, what="exporter to listen"
        )
        wait_for(lambda: get(healthz)[0] == 200, 15, what="/healthz 200")
        run_tasks(0, 10)
        wait_for(lambda: counted("succeeded") == 10, 10, what="the first tasks counted")

        stopped = rabbit.pause()
        _within(DETECT_WITHIN, stopped, lambda: get(healthz)[0] == 503, "/healthz 503")
        assert metric(port, "celerytui_broker_connected") == 0
        body = json.loads(get(healthz)[1])
        assert body["connected"] is False and "not answering" in body["last_error"]

        resumed = rabbit.resume()
        _within(
            RECOVER_WITHIN,
            resumed,
            lambda: get(healthz)[0] == 200 and metric(port, "celerytui_broker_connected") == 1,
            "/healthz 200 again",
        )
        run_tasks(10, 10)
        wait_for(lambda: counted("succeeded") == 20, 10, what="the later tasks counted")
        # a last task as a marker: once it is counted, anything counted twice would show
        run_tasks(20, 1)
        wait_for(lambda: counted("succeeded") == 21, 10, what="the marker task counted")
        assert (counted("sent"), counted("received"), counted("started")) == (21, 21, 21)
        assert metric(port, "celerytui_broker_reconnects_total") == 1
    finally:
        stop_process(proc)
        app.close()


async def test_tui_banner_follows_a_hung_rabbitmq(rabbit, redis_urls):
    from celerytui.app import make_app
    from tests.ui.conftest import wait_until
    from tests.ui.screen_text import screen_text

    banner = "broker unreachable, retrying"
    app = make_app(
        load_settings(broker_url=rabbit.url, result_backend=redis_urls[1], read_only=True)
    )
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(
            pilot, lambda: "● connected" in screen_text(app), timeout=15, what="connected"
        )
        stopped = rabbit.pause()
        await wait_until(
            pilot,
            lambda: banner in screen_text(app),
            what="the banner",
            timeout=max(0.1, stopped + DETECT_WITHIN - time.monotonic()),
        )
        assert "not answering" in screen_text(app)
        assert "○ reconnecting" in screen_text(app).splitlines()[0]
        resumed = rabbit.resume()
        await wait_until(
            pilot,
            lambda: banner not in screen_text(app) and "● connected" in screen_text(app),
            what="the banner to clear",
            timeout=max(0.1, resumed + RECOVER_WITHIN - time.monotonic()),
        )


def test_a_queue_poll_whose_rabbitmq_freezes_mid_use_fails_within_its_timeout(rabbit, redis_urls):
    """py-amqp reads block until the broker answers: a short-lived connection (queue depths,
    control, broadcasts) on a node that froze after the connect must still give up."""
    import threading
    from contextlib import contextmanager

    from celerytui.core.queues import QueueError, QueueInspector

    frozen = threading.Event()

    class FreezesAfterConnect(QueueInspector):
        @contextmanager
        def _connection(self):
            with super()._connection() as conn:
                conn.default_channel  # noqa: B018 (connected, a channel open: then it freezes)
                rabbit.pause()
                frozen.set()
                yield conn

    app = make_celery_app(load_settings(broker_url=rabbit.url, result_backend=redis_urls[1]))
    inspector = FreezesAfterConnect(app, timeout=1.0)
    outcome: list[object] = []

    def poll() -> None:
        try:
            outcome.append(inspector.depths(["celery"]))
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=poll, daemon=True)
    try:
        thread.start()
        assert frozen.wait(10), "the poll never connected"
        stopped = time.monotonic()
        # the channel's open waits out the timeout, the goodbyes are cut short
        _within(3 * inspector.timeout + 1, stopped, lambda: outcome, "the poll to give up")
        assert isinstance(outcome[0], QueueError), outcome
        assert str(outcome[0]).startswith("queue depths: ")
    finally:
        rabbit.resume()
        thread.join(10)
        app.close()
