"""EventStream with RabbitMQ as the broker: the kombu lane, events from a real worker.

The vhost is shared with other test sessions, so the worker consumes a queue of its own and the
test only looks at events about its own task and worker.
"""

from __future__ import annotations

import uuid

import pytest

from celerytui.config import load_settings
from celerytui.core.events import EventStream
from celerytui.tasks import make_celery_app
from tests.support.services import port_answers, service_missing, wait_for

pytestmark = pytest.mark.rabbitmq

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture
def amqp_app(redis_urls):
    if not port_answers("127.0.0.1", 5672):
        service_missing("rabbitmq")
    app = make_celery_app(load_settings(broker_url=AMQP_URL, result_backend=redis_urls[1]))
    yield app
    app.close()


def test_events_from_a_real_worker_over_rabbitmq(amqp_app, redis_urls, start_worker):
    tag = uuid.uuid4().hex[:8]
    queue = f"celerytui-events-{tag}"
    worker = start_worker(f"amqp-{tag}", wait=False, queues=queue, urls=(AMQP_URL, redis_urls[1]))
    worker.wait_ready(amqp_app)
    # fast_redis is asked for, but this broker is not Redis. read_only: the vhost is shared, and
    # enable_events would reach other sessions' workers (ours runs with -E anyway)
    stream = EventStream(amqp_app, read_only=True)
    assert stream.lane == "kombu"
    stream.start()
    seen: list[dict] = []
    try:
        wait_for(lambda: stream.status.connected, 15, what="stream connected to RabbitMQ")
        result = amqp_app.send_task("celerytui.tasks.validate_order", (4242,), queue=queue)
        assert result.get(timeout=20)["order_id"] == 4242

        def types() -> set[str]:
            seen.extend(stream.drain())
            return {e["type"] for e in seen if e.get("uuid") == result.id}

        want = {"task-sent", "task-received", "task-started", "task-succeeded"}
        wait_for(lambda: want <= types(), 15, what=f"{want} over AMQP")
        wait_for(
            lambda: (
                types()
                and any(
                    e["type"] == "worker-heartbeat" and e.get("hostname") == worker.hostname
                    for e in seen
                )
            ),
            10,
            what="the worker's heartbeat",
        )
        done = next(e for e in seen if e["type"] == "task-succeeded" and e["uuid"] == result.id)
        assert done["hostname"] == worker.hostname and "local_received" in done
        assert "guest:guest" not in stream.status.broker
    finally:
        stream.stop()
        with amqp_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
