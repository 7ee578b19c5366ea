"""`celerytui record --durable-queue` on the real RabbitMQ: the recorder is stopped, a workload
runs on a real worker, the recorder starts again -> every event of the workload is recorded
(the named durable queue kept them; it is bounded: x-max-length and x-message-ttl)."""

from __future__ import annotations

import signal
import uuid

import pytest
from kombu import Connection

from celerytui.config import load_settings
from celerytui.core.journal import open_store
from celerytui.tasks import make_celery_app
from tests.support.commands import LineReader, command_env, start_celerytui
from tests.support.services import port_answers, service_missing, stop_process, wait_for

pytestmark = pytest.mark.rabbitmq

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _queue(name: str) -> tuple[int, dict] | None:
    """(messages, arguments) of a queue, None when it does not exist."""
    with Connection(AMQP_URL) as conn:
        try:
            reply = conn.default_channel.queue_declare(name, passive=True)
        except Exception:
            return None
        return reply.message_count, {}


def _declare_again(name: str, arguments: dict) -> str:
    """RabbitMQ's answer to declaring the queue again with these arguments (it refuses to
    change a queue's arguments, naming the first one that differs)."""
    with Connection(AMQP_URL) as conn:
        try:
            conn.default_channel.queue_declare(
                name, durable=True, auto_delete=False, arguments=arguments
            )
        except Exception as exc:
            return str(exc)
    return "accepted"


def _delete(name: str) -> None:
    with Connection(AMQP_URL) as conn:
        conn.default_channel.queue_delete(name)


def test_events_wait_in_the_durable_queue_while_the_recorder_is_down(
    redis_urls, tmp_path, start_worker
):
    if not port_answers("127.0.0.1", 5672):
        service_missing("rabbitmq")
    tag = uuid.uuid4().hex[:8]
    durable, work_queue = f"celerytui-journal-{tag}", f"celerytui-dq-{tag}"
    store = str(tmp_path / "journal.sqlite3")
    env = command_env(XDG_DATA_HOME=str(tmp_path / "data"))
    # read-only: the vhost is shared; enable_events would reach other sessions' workers
    argv = (
        "record",
        "-b",
        AMQP_URL,
        "--result-backend",
        redis_urls[1],
        "--store",
        store,
        "--durable-queue",
        durable,
        "--read-only",
    )
    app = make_celery_app(load_settings(broker_url=AMQP_URL, result_backend=redis_urls[1]))
    proc = start_celerytui(*argv, env=env)
    try:
        LineReader(proc.stderr).wait_for(lambda line: "durable queue" in line, 30, "started")
        wait_for(lambda: _queue(durable) is not None, 20, what="the durable queue declared")
        # bounded: it holds a TTL and a maximum length (RabbitMQ names what differs)
        assert "inequivalent arg 'x-message-ttl'" in _declare_again(durable, {})
        ttl = {"x-message-ttl": 86_400_000}
        assert "inequivalent arg 'x-max-length'" in _declare_again(durable, ttl)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0

        # the workload, with no recorder running
        worker = start_worker(
            f"dq-{tag}", wait=False, queues=work_queue, urls=(AMQP_URL, redis_urls[1])
        )
        worker.wait_ready(app)
        results = [
            app.send_task("celerytui.tasks.validate_order", (i,), queue=work_queue)
            for i in range(10)
        ]
        assert [r.get(timeout=30)["order_id"] for r in results] == list(range(10))
        ids = {r.id for r in results}
        wait_for(lambda: _queue(durable)[0] > 0, 10, what="events waiting in the queue")

        proc = start_celerytui(*argv, env=env)
        LineReader(proc.stderr).wait_for(lambda line: "durable queue" in line, 30, "restarted")
        want = {"task-sent", "task-received", "task-started", "task-succeeded"}

        def recorded() -> dict[str, set[str]]:
            reader = open_store(store, cluster="x", write=False)
            try:
                seen: dict[str, set[str]] = {}
                for event in reader.iter_events(0):
                    if event.get("uuid") in ids:
                        seen.setdefault(event["uuid"], set()).add(event["type"])
                return seen
            finally:
                reader.close()

        wait_for(
            lambda: (seen := recorded()).keys() == ids and all(want <= t for t in seen.values()),
            30,
            what="every event of the workload recorded",
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        reader = open_store(store, cluster="x", write=False)
        rows = [reader.get_task(i) for i in ids]
        reader.close()
        assert {(r.state, r.name) for r in rows if r} == {
            ("SUCCESS", "celerytui.tasks.validate_order")
        }
        assert len([r for r in rows if r]) == 10
    finally:
        stop_process(proc)
        app.close()
        if _queue(durable) is not None:
            _delete(durable)
