"""Queue depths against a real broker: Redis priority lists and key prefixes, AMQP passive
declare, the queue names a cluster knows, and a broker that is not there."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from celery import Celery
from kombu import Exchange, Queue

from celerytui.config import load_settings
from celerytui.core.control import Controller
from celerytui.core.queues import QueueError, QueueInspector
from celerytui.tasks import make_celery_app
from tests.support.services import free_port, port_answers, service_missing, wait_for

EMAIL = "celerytui.tasks.send_email"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture
def app(redis_urls):
    broker, backend = redis_urls
    app = make_celery_app(load_settings(broker_url=broker, result_backend=backend))
    yield app
    app.close()


@pytest.mark.redis
def test_redis_depths_count_every_priority_list_under_the_key_prefix(app, redis_urls):
    app.conf.broker_transport_options = {
        "global_keyprefix": "tenant1:",
        "priority_steps": [0, 3, 6, 9],
    }
    priorities = [0, 0, 0, 3, 5, 6, 9, 9]  # kombu puts 5 on the 3 step
    for i, priority in enumerate(priorities):
        app.send_task(EMAIL, [f"{i}@example.com", "hi"], queue="backlog", priority=priority)
    keys = redis.Redis.from_url(redis_urls[0]).keys("*backlog*")
    assert b"tenant1:backlog\x06\x166" in keys  # what we count is what kombu wrote

    depth, missing = QueueInspector(app).depths(["backlog", "never-used"])
    assert depth.name == "backlog"
    assert depth.messages == len(priorities)
    assert depth.by_priority == {0: 3, 3: 2, 6: 1, 9: 2}
    assert depth.consumers is None and depth.error is None
    assert missing.messages == 0 and missing.error is None  # Redis: no list is an empty queue

    unprefixed = QueueInspector(Celery(broker=redis_urls[0], set_as_current=False))
    assert unprefixed.depths(["backlog"])[0].messages == 0  # the prefix is what finds them


@pytest.mark.redis
def test_known_queues_join_routes_defaults_and_workers(app, start_worker):
    worker = start_worker("qw", queues="celery,reports")
    replies = Controller(app).inspect("active_queues", worker.hostname)
    names = QueueInspector(app).known_queues(replies)
    assert "reports" in names  # only a worker knows this one
    assert {"celery", "http", "disk", "secure"} <= set(names)  # default, task_queues, routes
    assert not [n for n in names if "pidbox" in n or "celeryev" in n]
    assert QueueInspector(app).known_queues() == ["celery", "disk", "http", "secure"]


def test_a_closed_broker_port_is_a_clear_error_within_the_timeout():
    for url in (
        f"redis://:hunter2@127.0.0.1:{free_port()}/0",
        f"amqp://guest:hunter2@127.0.0.1:{free_port()}//",
    ):
        inspector = QueueInspector(Celery(broker=url, set_as_current=False), timeout=1.0)
        started = time.monotonic()
        with pytest.raises(QueueError, match="broker unreachable") as info:
            inspector.depths(["celery"])
        assert time.monotonic() - started < 3.0
        assert "hunter2" not in str(info.value)
        assert "\n" not in str(info.value)


@pytest.mark.rabbitmq
def test_amqp_depths_by_passive_declare():
    if not port_answers("127.0.0.1", 5672):
        service_missing("RabbitMQ at 127.0.0.1:5672")
    app = Celery("amqp-depths", broker=RABBITMQ, set_as_current=False)
    name = f"celerytui-test-{uuid.uuid4().hex[:8]}"
    queue = Queue(
        name,
        Exchange(name),
        routing_key=name,
        queue_arguments={"x-max-priority": 9},
        auto_delete=False,
    )
    try:
        with app.connection_for_write() as conn:
            queue(conn.default_channel).declare()
            with conn.Producer() as producer:
                for priority in (0, 5, 9):
                    producer.publish(
                        {"n": priority},
                        exchange=queue.exchange,
                        routing_key=name,
                        priority=priority,
                        declare=[queue],
                    )
        inspector = QueueInspector(app)

        def all_three_counted():  # publishing is asynchronous: RabbitMQ counts a moment later
            depths = inspector.depths([name, name + "-missing"])
            return depths if depths[0].messages == 3 else None

        depth, missing = wait_for(all_three_counted, 10, what="RabbitMQ to count 3 messages")
        assert depth.messages == 3 and depth.consumers == 0 and depth.error is None
        assert missing.messages == 0 and missing.error and "NOT_FOUND" in missing.error
    finally:
        with app.connection_for_write() as conn:
            queue(conn.default_channel).delete()
        app.close()
