"""ResultWatcher against real Redis and a real worker: full results, reconnect + resync, stop."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
from celery import Celery

from celerytui.config import load_settings
from celerytui.core.control import Controller
from celerytui.core.results import CLIENT_NAME, ResultWatcher
from celerytui.tasks import make_celery_app
from tests.support.core_cluster import module_cluster
from tests.support.services import wait_for

pytestmark = pytest.mark.redis

VALIDATE = "celerytui.tasks.validate_order"


@pytest.fixture(scope="module")
def cluster(redis_target, tmp_path_factory):
    with module_cluster(redis_target, tmp_path_factory, "results") as cluster:
        cluster.worker = cluster.start_worker("res")
        yield cluster


@pytest.fixture
def watcher(cluster):
    watcher = ResultWatcher(cluster.app)
    watcher.start()
    wait_for(lambda: watcher.status.connected, 10, what="watcher subscribed")
    yield watcher
    watcher.stop()


def metas_for(watcher: ResultWatcher, task_id: str, seen: list[dict]):
    """Drain into `seen`; the metas of this task so far (None until one arrives)."""
    seen.extend(watcher.drain())
    return [m for m in seen if m["task_id"] == task_id] or None


def test_supports_only_redis_backends():
    assert ResultWatcher.supports(Celery(backend="redis://h:6379/1", set_as_current=False))
    assert ResultWatcher.supports(Celery(backend="rediss://h:6380/1", set_as_current=False))
    assert not ResultWatcher.supports(Celery(backend="rpc://", set_as_current=False))
    assert not ResultWatcher.supports(Celery(backend="file:///tmp/r", set_as_current=False))


def test_a_10kb_result_arrives_whole_with_extended_fields(cluster, watcher):
    big = "order-" + "x" * 10_000
    task_id = Controller(cluster.app).send_task(VALIDATE, [big])
    seen: list[dict] = []
    metas = wait_for(lambda: metas_for(watcher, task_id, seen), 20, what="the result meta")
    done = [m for m in metas if m["status"] == "SUCCESS"] or wait_for(
        lambda: [m for m in metas_for(watcher, task_id, seen) or [] if m["status"] == "SUCCESS"],
        20,
        what="SUCCESS meta",
    )
    meta = done[-1]
    assert meta["result"] == {"order_id": big, "status": "validated"}  # all 10 kB of it
    assert meta["name"] == VALIDATE
    assert meta["worker"] == cluster.worker.hostname
    assert meta["args"] == [big]
    assert meta["date_done"]
    assert watcher.status.events_received >= 1
    assert watcher.status.events_dropped == 0


def test_the_backends_global_keyprefix_is_honoured(cluster):
    app = make_celery_app(load_settings(broker_url=cluster.broker, result_backend=cluster.backend))
    app.conf.result_backend_transport_options = {"global_keyprefix": "tenant7"}
    prefixed, plain = ResultWatcher(app), ResultWatcher(cluster.app)
    for watcher in (prefixed, plain):
        watcher.start()
    try:
        wait_for(
            lambda: prefixed.status.connected and plain.status.connected, 10, what="both subscribed"
        )
        app.backend.store_result("prefixed-1", {"ok": True}, "SUCCESS")
        assert redis.Redis.from_url(cluster.backend).exists("tenant7_celery-task-meta-prefixed-1")
        metas = wait_for(prefixed.drain, 10, what="the prefixed meta")
        assert [m["task_id"] for m in metas] == ["prefixed-1"]
        assert not [m for m in plain.drain() if m["task_id"] == "prefixed-1"]
        prefixed.request_resync(["prefixed-1"])  # MGET uses the prefixed key, too
        assert wait_for(prefixed.drain, 10, what="resynced")[0]["result"] == {"ok": True}
    finally:
        prefixed.stop()
        plain.stop()
        app.close()


def test_results_stored_in_another_database_are_not_ours(cluster, redis_target):
    """Pub/sub spans databases; the watcher keeps only results stored in its own."""
    (other_db,) = redis_target.fresh_dbs(1)
    other = make_celery_app(
        load_settings(broker_url=cluster.broker, result_backend=redis_target.url(other_db))
    )
    watcher = ResultWatcher(cluster.app)
    watcher.start()
    try:
        wait_for(lambda: watcher.status.connected, 10, what="watcher subscribed")
        other.backend.store_result("elsewhere-1", {"other": True}, "SUCCESS")
        cluster.app.backend.store_result("ours-1", {"ours": True}, "SUCCESS")
        seen: list[dict] = []
        wait_for(lambda: metas_for(watcher, "ours-1", seen), 10, what="our own result")
        assert [m["task_id"] for m in seen] == ["ours-1"]
    finally:
        watcher.stop()
        other.close()


def test_a_full_hand_off_drops_and_counts_instead_of_blocking(cluster):
    watcher = ResultWatcher(cluster.app, max_pending=2)
    watcher.start()
    try:
        wait_for(lambda: watcher.status.connected, 10, what="watcher subscribed")
        for i in range(5):
            cluster.app.backend.store_result(f"drop-{uuid.uuid4()}", {"i": i}, "SUCCESS")
        wait_for(lambda: watcher.status.events_received >= 5, 10, what="5 metas received")
        assert len(watcher.drain()) == 2
        status = watcher.status  # (pub/sub spans dbs: count what else arrived, too)
        assert status.events_dropped == status.events_received - 2 >= 3
    finally:
        watcher.stop()


def test_resync_recovers_a_task_finished_while_disconnected(cluster, redis_target):
    """The watcher's connection is killed and kept out (its Redis user disabled) while a real
    task finishes; after it reconnects, status shows the reconnect, resync_needed is set, and
    request_resync fetches the missed result with an MGET."""
    admin = redis.Redis(host=redis_target.host, port=redis_target.port)
    user, password = f"celerytui-test-{uuid.uuid4().hex[:8]}", "s3cret-pw"
    admin.acl_setuser(
        user,
        enabled=True,
        passwords=[f"+{password}"],
        keys=["*"],
        channels=["*"],
        commands=["+@all"],
    )
    db = cluster.backend.rsplit("/", 1)[1]
    backend_url = f"redis://{user}:{password}@{redis_target.host}:{redis_target.port}/{db}"
    app = make_celery_app(load_settings(broker_url=cluster.broker, result_backend=backend_url))
    watcher = ResultWatcher(app)
    watcher.start()
    try:
        wait_for(lambda: watcher.status.connected, 10, what="watcher subscribed")
        assert watcher.status.reconnects == 0 and not watcher.resync_needed

        # the gap: the watcher is cut off and cannot log back in
        admin.acl_setuser(user, enabled=False)
        killed = admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub", "USER", user)
        assert killed >= 1
        wait_for(lambda: not watcher.status.connected, 10, what="the watcher to notice")
        task_id = Controller(cluster.app).send_task(VALIDATE, ["during-the-gap"])
        assert cluster.app.AsyncResult(task_id).get(timeout=20)["order_id"] == "during-the-gap"
        wait_for(lambda: watcher.status.attempts >= 2, 10, what="a failed reconnect attempt")
        status = watcher.status
        assert status.last_error and password not in status.last_error

        admin.acl_setuser(user, enabled=True)
        wait_for(lambda: watcher.status.connected, 10, what="the watcher to reconnect")
        assert watcher.status.reconnects == 1
        assert watcher.resync_needed
        seen: list[dict] = []
        assert metas_for(watcher, task_id, seen) is None  # missed: it finished in the gap

        watcher.request_resync([task_id, "no-such-task"])
        assert not watcher.resync_needed
        metas = wait_for(lambda: metas_for(watcher, task_id, seen), 10, what="resynced meta")
        assert metas[-1]["status"] == "SUCCESS"
        assert metas[-1]["result"]["order_id"] == "during-the-gap"
    finally:
        watcher.stop()
        admin.acl_deluser(user)
        app.close()


def test_stop_is_prompt_and_leaves_no_thread(cluster):
    watcher = ResultWatcher(cluster.app)
    watcher.start()
    wait_for(lambda: watcher.status.connected, 10, what="watcher subscribed")
    started = time.monotonic()
    watcher.stop()
    assert time.monotonic() - started < 2.0
    assert not watcher.status.connected
    assert not [t for t in threading.enumerate() if t.name == "celerytui-results"]
    admin = redis.Redis.from_url(cluster.backend)
    wait_for(
        lambda: not [c for c in admin.client_list() if c.get("name") == CLIENT_NAME],
        5,
        what="the watcher's connection closed",
    )


def test_other_backends_are_polled_when_watched(tmp_path):
    """A filesystem result backend has no pub/sub: watch() polls it off the caller's thread."""
    app = Celery("fs", broker="memory://", backend=f"file://{tmp_path}", set_as_current=False)
    app.conf.result_serializer = "json"
    watcher = ResultWatcher(app, watch_interval=0.05)
    assert not ResultWatcher.supports(app)
    watcher.start()
    try:
        started = time.monotonic()
        watcher.watch("fs-task-1")
        assert time.monotonic() - started < 0.5  # the caller does not wait
        assert watcher.drain() == []
        app.backend.store_result("fs-task-1", {"answer": 42}, "SUCCESS")
        metas = wait_for(watcher.drain, 5, what="the polled meta")
        assert metas[0]["task_id"] == "fs-task-1"
        assert metas[0]["result"] == {"answer": 42}
        assert metas[0]["status"] == "SUCCESS"
    finally:
        watcher.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("celerytui-watch")]


def test_an_unreachable_backend_shows_in_status_and_stop_stays_prompt():
    from tests.support.services import free_port

    app = Celery("gone", backend=f"redis://:pw-9f3@127.0.0.1:{free_port()}/1", set_as_current=False)
    watcher = ResultWatcher(app)
    watcher.start()
    try:
        wait_for(lambda: watcher.status.attempts >= 2, 10, what="retries with backoff")
        status = watcher.status
        assert not status.connected and status.reconnects == 0
        assert "Connection refused" in status.last_error and "pw-9f3" not in status.last_error
        assert "pw-9f3" not in status.broker
    finally:
        started = time.monotonic()
        watcher.stop()
        assert time.monotonic() - started < 2.0
