"""Workers, Worker detail, Queues and Task detail against a real Redis and a real worker."""

from __future__ import annotations

import pytest
import redis

from celerytui.app import make_app
from celerytui.config import load_settings
from celerytui.screens.dialogs import ConfirmDialog, PromptDialog
from celerytui.screens.failures import FailuresScreen
from celerytui.screens.queues import QueuesScreen
from celerytui.screens.task_detail import TaskDetailScreen
from celerytui.screens.worker_detail import WorkerDetailScreen
from celerytui.screens.workers import WorkersScreen
from celerytui.tasks import order_chain
from celerytui.widgets.chain_tree import ChainTree
from celerytui.widgets.failure_table import FailureTable
from celerytui.widgets.queue_table import QueueTable
from celerytui.widgets.worker_table import WorkerTable
from tests.support.screens_ui import connected, module_worker, mounted_screen, notices, until
from tests.ui.screen_text import screen_text

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def cluster(redis_target, tmp_path_factory):
    with module_worker(
        redis_target, tmp_path_factory.mktemp("workers-screen"), "screens"
    ) as running:
        yield running


def _app(cluster, **overrides):
    broker, backend, _client, _worker = cluster
    return make_app(load_settings(broker_url=broker, result_backend=backend, **overrides))


def _plain(widget) -> str:
    return str(widget.render())


async def _workers_screen(pilot, app, hostname: str) -> WorkersScreen:
    await until(pilot, lambda: connected(app), what="the event stream to connect")
    await pilot.press("4")
    screen = await until(
        pilot,
        lambda: isinstance(app.screen, WorkersScreen) and app.screen,
        what="the Workers screen",
    )
    table = screen.query_one(WorkerTable)
    await until(
        pilot,
        lambda: hostname in {str(k.value) for k in table.rows},
        what=f"{hostname} in the worker table",
    )
    table.move_cursor(row=table.get_row_index(hostname), animate=False)
    await pilot.pause()
    return screen


async def test_worker_detail_shows_registered_tasks_from_inspect(cluster):
    hostname = cluster[3].hostname
    app = _app(cluster)
    async with app.run_test(size=(80, 24)) as pilot:
        await _workers_screen(pilot, app, hostname)
        assert "online" in screen_text(app)
        await pilot.press("enter")
        detail = await mounted_screen(pilot, app, WorkerDetailScreen, what="the worker detail")
        registered = detail.query_one("#inspect-registered")
        await until(
            pilot,
            lambda: "celerytui.tasks.send_email" in _plain(registered),
            what="registered tasks from inspect",
        )
        assert "celerytui.tasks.check_disk_usage" in _plain(registered)
        stats = detail.query_one("#inspect-stats")
        await until(pilot, lambda: "max-concurrency 2" in _plain(stats), what="pool stats")
        queues = detail.query_one("#inspect-active_queues")
        await until(pilot, lambda: "http" in _plain(queues), what="active queues")
        assert hostname in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, WorkersScreen), what="back")


async def test_read_only_refuses_every_worker_action(cluster):
    hostname = cluster[3].hostname
    app = _app(cluster, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _workers_screen(pilot, app, hostname)
        footer = screen_text(app).splitlines()[-1]
        assert "Shutdown" not in footer and "Grow" not in footer
        for key, what in (
            ("plus", "pool grow"),
            ("minus", "pool shrink"),
            ("a", "autoscale"),
            ("c", "add consumer"),
            ("C", "cancel consumer"),
            ("S", "shutdown"),
        ):
            await pilot.press(key)
            await until(
                pilot,
                lambda w=what: f"read-only: {w} refused" in notices(app),
                what=f"the {what} refusal",
            )
            assert not isinstance(app.screen, ConfirmDialog | PromptDialog)
        assert cluster[3].proc.poll() is None  # the worker is still running
        pong = cluster[2].control.ping(destination=[hostname], timeout=1.0)
        assert any(hostname in reply for reply in pong)


async def test_queues_screen_shows_a_real_depth_and_purges_after_confirming(redis_urls, celery_app):
    broker, backend = redis_urls
    for i in range(3):  # no worker consumes these databases: the messages wait
        celery_app.send_task("celerytui.tasks.validate_order", args=[i])
    app = make_app(load_settings(broker_url=broker, result_backend=backend))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: connected(app), what="the event stream to connect")
        await pilot.press("5")
        screen = await until(
            pilot,
            lambda: isinstance(app.screen, QueuesScreen) and app.screen,
            what="the Queues screen",
        )
        table = screen.query_one(QueueTable)
        await until(
            pilot,
            lambda: (
                "celery" in {str(k.value) for k in table.rows}
                and table.get_row("celery")[1].plain == "3"
            ),
            what="celery depth 3",
        )
        assert any(line.split()[:2] == ["celery", "3"] for line in screen_text(app).splitlines())
        table.move_cursor(row=table.get_row_index("celery"), animate=False)
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the confirm")
        await pilot.press("y")
        await until(
            pilot,
            lambda: "purged 3 message(s) from celery" in notices(app),
            what="the purge notice",
        )
        client = redis.Redis.from_url(broker)
        assert client.llen("celery") == 0
        client.close()


async def test_task_detail_shows_a_10kb_result_whole_and_the_order_chain(cluster):
    client = cluster[2]
    big = "order-" + "x" * 10_000
    app = _app(cluster)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(
            pilot,
            lambda: connected(app) and app.monitor.state.workers,
            what="the event stream and a heartbeat",
        )
        uuid = client.send_task("celerytui.tasks.validate_order", args=[big]).id

        def full() -> bool:
            task = app.monitor.state.tasks.get(uuid)
            return bool(task and task.result_is_full)

        await until(pilot, full, what="the full result")
        app.show_task(uuid)
        detail = await mounted_screen(pilot, app, TaskDetailScreen, what="the task detail")
        result = detail.query_one("#task-result")
        await until(pilot, lambda: big in _plain(result), what="all 10 kB of the result")
        assert "result backend" in _plain(detail.query_one("#task-result-heading"))
        await pilot.press("escape")

        last = order_chain(client, 4242).apply_async()
        root = last.parent.parent.id
        await until(
            pilot,
            lambda: getattr(app.monitor.state.tasks.get(last.id), "state", "") == "SUCCESS",
            what="the chain to finish",
        )
        app.show_task(root)
        detail = await until(
            pilot,
            lambda: (
                isinstance(app.screen, TaskDetailScreen)
                and app.screen.uuid == root
                and app.screen.is_mounted
                and app.screen
            ),
            what="root detail",
        )
        tree = detail.query_one(ChainTree)

        def labels() -> list[str]:
            out, stack = [], [tree.root]
            while stack:
                node = stack.pop()
                out.append(str(node.label))
                stack.extend(reversed(node.children))
            return out

        await until(
            pilot,
            lambda: len(labels()) == 3 and all("SUCCESS" in label for label in labels()),
            what="3 done nodes",
        )
        names = labels()
        assert "validate_order" in names[0]
        assert "process_payment" in names[1] and "ship_order" in names[2]
        assert tree.root.children[0].children[0].data == last.id  # root -> payment -> ship


async def test_task_detail_follows_the_task_live(cluster):
    client = cluster[2]
    app = _app(cluster)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(
            pilot,
            lambda: connected(app) and app.monitor.state.workers,
            what="the event stream and a heartbeat",
        )
        uuid = client.send_task("celerytui.tasks.validate_order", args=[31337], countdown=2).id
        await until(pilot, lambda: uuid in app.monitor.state.tasks, what="the task")
        app.show_task(uuid)
        detail = await mounted_screen(pilot, app, TaskDetailScreen, what="the detail")
        fields = detail.query_one("#task-fields")
        await until(pilot, lambda: "RECEIVED" in _plain(fields), what="RECEIVED")
        await until(pilot, lambda: "SUCCESS" in _plain(fields), what="SUCCESS, live")
        timeline = detail.query_one("#task-timeline")
        await until(pilot, lambda: "task-succeeded" in _plain(timeline), what="the timeline")
        assert "task-received" in _plain(timeline) and "task-started" in _plain(timeline)
        await until(
            pilot,
            lambda: '"status": "validated"' in _plain(detail.query_one("#task-result")),
            what="the result",
        )


async def test_failures_lists_a_real_failure_and_enter_shows_its_traceback(cluster):
    client = cluster[2]
    app = _app(cluster)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(
            pilot,
            lambda: connected(app) and app.monitor.state.workers,
            what="the event stream and a heartbeat",
        )
        await pilot.press("3")
        screen = await until(
            pilot,
            lambda: isinstance(app.screen, FailuresScreen) and app.screen,
            what="the Failures screen",
        )
        uuid = client.send_task("celerytui.tasks.validate_order", args=[""]).id
        table = screen.query_one(FailureTable)
        await until(
            pilot, lambda: uuid in {str(k.value) for k in table.rows}, what="the failure row"
        )
        row = [cell.plain for cell in table.get_row(uuid)]
        assert row[1] == "FAILURE" and "validate_order" in row[2]
        assert "order_id is empty" in row[4] and "ValueError: order_id is empty" in row[5]
        table.move_cursor(row=table.get_row_index(uuid), animate=False)
        await pilot.press("enter")
        detail = await mounted_screen(pilot, app, TaskDetailScreen, what="the detail")
        traceback = detail.query_one("#task-traceback")
        await until(
            pilot,
            lambda: "Traceback (most recent call last)" in _plain(traceback),
            what="the full traceback",
        )
        await until(
            pilot,
            lambda: "ValueError: order_id is empty" in screen_text(app),
            what="the traceback scrolled into view",
        )


async def test_worker_keys_grow_the_pool_add_a_consumer_and_shut_down_after_confirming(cluster):
    hostname = cluster[3].hostname
    control = cluster[2].control
    app = _app(cluster)
    async with app.run_test(size=(80, 24)) as pilot:
        await _workers_screen(pilot, app, hostname)
        await pilot.press("plus")
        await until(
            pilot,
            lambda: any(n.startswith(f"pool grow {hostname}:") for n in notices(app)),
            what="the pool grow reply",
        )

        def pool() -> dict:
            stats = control.inspect(destination=[hostname], timeout=1.0).stats() or {}
            return (stats.get(hostname) or {}).get("pool") or {}

        await until(
            pilot,
            lambda: len(pool().get("processes", ())) == 3,
            timeout=10,
            what=f"a third pool process {notices(app)}",
        )

        await pilot.press("c")
        dialog = await until(
            pilot,
            lambda: (
                isinstance(app.screen, PromptDialog) and app.screen.query("Input") and app.screen
            ),
            what="the queue prompt",
        )
        dialog.query_one("Input").value = "extra"
        await pilot.press("enter")
        await until(
            pilot,
            lambda: any("add consumer extra" in n for n in notices(app)),
            what="the add consumer reply",
        )
        queues = control.inspect(destination=[hostname], timeout=1.0).active_queues()
        assert "extra" in {q["name"] for q in queues[hostname]}

        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the confirm")
        await pilot.press("n")
        await pilot.pause(1.0)
        assert cluster[3].proc.poll() is None  # "no" sent nothing
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the confirm")
        await pilot.press("y")
        await until(
            pilot,
            lambda: cluster[3].proc.poll() is not None,
            timeout=20,
            what="the worker to shut down",
        )
        table = app.screen.query_one(WorkerTable)
        await until(
            pilot,
            lambda: table.get_row(hostname)[1].plain == "offline",
            what="offline in the worker table",
        )
