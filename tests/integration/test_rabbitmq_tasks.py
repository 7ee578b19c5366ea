"""send_email and the order chain with RabbitMQ as the broker and Redis as the result backend.

The vhost is shared (other test sessions may use it at the same time), so this module sends to
a queue of its own, unique per run, and deletes it at the end.
"""

from __future__ import annotations

import uuid

import pytest

from celerytui.tasks import order_chain
from tests.support.services import port_answers, service_missing
from tests.support.worker_side import module_worker

pytestmark = pytest.mark.rabbitmq

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture(scope="module")
def amqp_cluster(redis_target, tmp_path_factory):
    if not port_answers("127.0.0.1", 5672):
        service_missing("rabbitmq")
    queue = f"celerytui-test-{uuid.uuid4().hex[:8]}"
    with module_worker(
        redis_target,
        tmp_path_factory.mktemp("amqp"),
        f"amqp-{queue[-8:]}",
        queues=queue,
        broker_url=AMQP_URL,
    ) as (app, worker):
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)
        try:
            yield app, worker, queue
        finally:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)


def test_send_email_over_rabbitmq(amqp_cluster):
    app, worker, queue = amqp_cluster
    result = app.tasks["celerytui.tasks.send_email"].apply_async(
        ("ops@example.com", "disk almost full on server01"), queue=queue
    )
    assert result.get(timeout=20) == "Email to ops@example.com sent: disk almost full on ..."
    meta = app.backend.get_task_meta(result.id)
    assert (meta["worker"], meta["queue"]) == (worker.hostname, queue)


def test_order_chain_over_rabbitmq(amqp_cluster):
    app, _, queue = amqp_cluster
    pipeline = order_chain(app, 3003)
    for step in pipeline.tasks:  # each step is sent by the worker with its own options
        step.set(queue=queue)
    final = pipeline.apply_async().get(timeout=20)
    assert (final["order_id"], final["status"], final["paid"]) == (3003, "shipped", True)
    assert final["tracking_no"].startswith("CT")
