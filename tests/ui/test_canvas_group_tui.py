"""A group and a chord sent from a plain client (a script's ``apply_async()``), stopped from
the task detail's tree: Celery's events link their members by nothing, so the tree is built
from the result backend's metas and the broker's messages (core/canvas_members.py). One real
worker (concurrency 2) on an embedded Redis per test, `incidents.wait` tasks."""

from __future__ import annotations

import pytest
from celery import chord, group

from celerytui.app import make_app
from celerytui.config import load_settings
from celerytui.core.model import REVOKED, STARTED, SUCCESS
from celerytui.screens.dialogs import ConfirmDialog
from celerytui.screens.task_detail import TaskDetailScreen
from celerytui.widgets.chain_tree import ChainTree
from tests.support.incident_app import GATHER, QUEUE, WAIT, incident_worker, make_incident_app
from tests.support.screens_ui import connected, mounted_screen, notices, until
from tests.support.workers import WorkerProcess
from tests.ui.test_incidents_tui import heading

pytestmark = pytest.mark.redis

SLOW = 60  # seconds each member sleeps: longer than the test


@pytest.fixture
def tracked(redis_urls, tmp_path):
    """(broker, backend, client app, worker storing STARTED, concurrency 2)."""
    broker, backend = redis_urls
    client = make_incident_app(broker, backend)
    worker = WorkerProcess(
        broker, backend, tmp_path, name="cv", queues=QUEUE, app="tests.support.canvas_app"
    ).start(client)
    yield broker, backend, client, worker
    worker.stop()
    client.close()


def _app(broker, backend, **overrides):
    return make_app(load_settings(broker_url=broker, result_backend=backend, **overrides))


def _group_members(app, uuid: str) -> list:
    """The members under the group node of ``uuid``'s tree, as the detail draws them."""
    detail = app.screen_stack[1] if len(app.screen_stack) > 1 else None
    if not isinstance(detail, TaskDetailScreen):
        return []
    with app.monitor.lock:
        tree = detail.canvas_of(app.monitor.state)
    if tree is None or tree.group is None:
        return []
    return [node.task for node in tree.children]


async def _stop_the_canvas(pilot, app, members, client, kind: str) -> None:
    """Read-only refuses x and X; writable, x revokes the 8 waiting members, X terminates
    the 2 running; a task sent after the canvas is not revoked: it runs once they are gone."""
    detail = app.screen
    await until(
        pilot,
        lambda: len(members()) == 10 and sum(t.state == STARTED for t in members()) == 2,
        what="one tree of 10 members, 2 of them running",
    )
    await until(
        pilot,
        lambda: f"{kind} " in heading(detail) and "10 members: " in heading(detail),
        what="the group heading",
    )
    after = client.send_task(WAIT, args=[0.1]).id  # not a member: must not be revoked
    detail.query_one(ChainTree).focus()
    await pilot.press("x")
    await until(pilot, lambda: "read-only: revoke refused" in notices(app), what="refusal")
    await pilot.press("X")
    await until(pilot, lambda: "read-only: terminate refused" in notices(app), what="refusal")
    assert not isinstance(app.screen, ConfirmDialog)

    app.settings.read_only = app.monitor.controller.read_only = False
    await pilot.press("x")
    dialog = await mounted_screen(pilot, app, ConfirmDialog, "the canvas revoke confirmation")
    question = dialog._question
    assert question.startswith("Revoke the 10 unfinished members of this canvas (2 running")
    assert "10 members: " in question and "2 running (results)" in question
    assert "queued (broker)" in question or "reserved (broker)" in question
    await pilot.press("y")
    await until(
        pilot,
        lambda: sum(t.state == REVOKED for t in members()) == 8,
        timeout=30,
        what="the 8 members not running revoked (events)",
    )
    assert sum(t.state == STARTED for t in members()) == 2  # revoke does not kill
    detail.query_one(ChainTree).focus()
    await pilot.press("X")
    dialog = await mounted_screen(pilot, app, ConfirmDialog, "the terminate confirmation")
    assert dialog._question.startswith("Terminate the 2 running members of this canvas")
    await pilot.press("y")
    await until(
        pilot,
        lambda: all(t.state == REVOKED for t in members()),
        timeout=30,
        what="every member revoked",
    )
    await until(  # the pool is free again: the task sent after the canvas runs
        pilot,
        lambda: getattr(app.monitor.state.tasks.get(after), "state", None) == SUCCESS,
        what="the task sent after the canvas to run: it was not revoked",
    )


async def _live(pilot, app) -> None:
    await until(pilot, lambda: connected(app), what="the event stream to connect")
    await until(pilot, lambda: app.monitor.state.workers, what="the worker")


async def test_a_group_sent_from_a_plain_client_is_one_tree_and_x_stops_it(tracked):
    broker, backend, client, _ = tracked
    app = _app(broker, backend, read_only=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await _live(pilot, app)
        sent = group(client.signature(WAIT, args=[SLOW]) for _ in range(10)).apply_async()
        ids = [r.id for r in sent.results]
        app.show_task(ids[-1])
        await mounted_screen(pilot, app, TaskDetailScreen, "the last member's detail")

        def members() -> list:
            return _group_members(app, ids[-1])

        await until(pilot, lambda: {t.uuid for t in members()} == set(ids), what="10 members")
        await _stop_the_canvas(pilot, app, members, client, "Group")


async def test_a_chord_sent_from_a_plain_client_is_one_tree_and_x_stops_it(tracked):
    broker, backend, client, _ = tracked
    app = _app(broker, backend, read_only=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await _live(pilot, app)
        header = [client.signature(WAIT, args=[SLOW]) for _ in range(10)]
        body = chord(header)(client.signature(GATHER))
        ids = [r.id for r in body.parent.results]
        app.show_task(ids[0])
        await mounted_screen(pilot, app, TaskDetailScreen, "a header member's detail")

        def members() -> list:
            return _group_members(app, ids[0])

        await until(pilot, lambda: {t.uuid for t in members()} == set(ids), what="10 members")
        await _stop_the_canvas(pilot, app, members, client, "Chord")


async def test_where_workers_store_no_started_the_tree_says_which_members_it_cannot_see(
    redis_urls, tmp_path
):
    """acks early and no task_track_started: a running member's message is gone and no meta
    names it, so it cannot be found. The chord's size (the backend keeps it) says how many."""
    broker, backend = redis_urls
    client = make_incident_app(broker, backend)
    worker = incident_worker(broker, backend, tmp_path, concurrency=2).start(client)
    try:
        app = _app(broker, backend)
        async with app.run_test(size=(120, 30)) as pilot:
            await _live(pilot, app)
            header = [client.signature(WAIT, args=[SLOW]) for _ in range(10)]
            ids = [r.id for r in chord(header)(client.signature(GATHER)).parent.results]

            def started() -> int:
                tasks = app.monitor.state.tasks
                return sum(getattr(tasks.get(i), "state", None) == STARTED for i in ids)

            await until(pilot, lambda: started() == 2, what="2 members running")
            app.show_task(ids[-1])
            detail = await mounted_screen(pilot, app, TaskDetailScreen, "a member's detail")

            def members() -> list:
                return _group_members(app, ids[-1])

            await until(pilot, lambda: len(members()) == 8, what="the 8 members still waiting")
            await until(
                pilot,
                lambda: "10 sent, 2 not found" in heading(detail),
                what="the heading to say 2 members were not found",
            )
            assert heading(detail).startswith("Chord ")
            detail.query_one(ChainTree).focus()
            await pilot.press("x")
            dialog = await mounted_screen(pilot, app, ConfirmDialog, "the revoke confirmation")
            assert dialog._question.startswith("Revoke the 8 unfinished members of this canvas?")
            assert "10 sent, 2 not found" in dialog._question
            await pilot.press("y")
            await until(
                pilot,
                lambda: all(t.state == REVOKED for t in members()),
                timeout=30,
                what="the 8 found revoked",
            )
            assert started() == 2  # not found, so not named: they run on
    finally:
        worker.stop()
        client.close()


@pytest.mark.rabbitmq
async def test_on_amqp_only_members_with_a_stored_result_are_known_and_it_says_so(
    redis_urls, tmp_path
):
    """RabbitMQ cannot list its waiting messages without taking them: the tree holds the
    members whose meta the Redis backend stored (finished, and running ones: STARTED is
    stored), and the heading and the dialog say the rest cannot be listed. The vhost is
    shared: a queue of this run's own, deleted at the end; the dialog is answered no."""
    import uuid

    from tests.support.services import port_answers, service_missing

    if not port_answers("127.0.0.1", 5672):
        service_missing("rabbitmq")
    amqp = "amqp://guest:guest@127.0.0.1:5672//"
    backend = redis_urls[1]
    queue = f"celerytui-canvas-{uuid.uuid4().hex[:8]}"
    client = make_incident_app(amqp, backend)
    worker = WorkerProcess(
        amqp,
        backend,
        tmp_path,
        name=f"cv-{queue[-8:]}",
        queues=queue,
        app="tests.support.canvas_app",
    ).start(client)
    try:
        app = _app(amqp, backend, read_only=True)  # the vhost's other workers: no broadcasts
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: connected(app), what="the event stream to connect")
            waits = [0.2] * 4 + [SLOW] * 6
            sent = group(client.signature(WAIT, args=[s], queue=queue) for s in waits)()
            ids = [r.id for r in sent.results]
            tasks = app.monitor.state.tasks

            def states() -> list:
                return [getattr(tasks.get(i), "state", None) for i in ids]

            await until(
                pilot,
                lambda: states()[:4] == [SUCCESS] * 4 and states().count(STARTED) == 2,
                what="4 members done, 2 running",
            )
            app.show_task(ids[0])
            detail = await mounted_screen(pilot, app, TaskDetailScreen, "a member's detail")
            await until(pilot, lambda: len(_group_members(app, ids[0])) == 6, what="6 members")
            said = heading(detail)
            assert "6 members: 4 done (results), 2 running (results)" in said
            assert "broker amqp: queued and reserved members cannot be listed" in said
            app.settings.read_only = app.monitor.controller.read_only = False  # for the dialog
            detail.query_one(ChainTree).focus()
            await pilot.press("x")
            dialog = await mounted_screen(pilot, app, ConfirmDialog, "the revoke confirmation")
            assert dialog._question.startswith("Revoke the 2 unfinished members of this canvas")
            assert "only members with a stored result are known" in dialog._question
            await pilot.press("n")
    finally:
        worker.stop()
        with client.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
        client.close()
