"""Switching cluster from the keyboard (``:ctx``, the palette), against two real clusters on
their own Redis databases, each with its own worker: each context shows only its own workers
and tasks, the old monitor is stopped, and the read-only context refuses actions however it
was reached."""

from __future__ import annotations

import pytest
import redis
from textual.command import CommandPalette

from celerytui.app import make_app
from celerytui.cli_options import ContextLoader
from celerytui.config import load_settings
from celerytui.core.results import CLIENT_NAME
from celerytui.screens.command_line import CommandLineScreen
from celerytui.screens.dialogs import ConfirmDialog, PromptDialog
from celerytui.screens.tasks import TasksScreen
from celerytui.screens.workers import WorkersScreen
from celerytui.tasks import make_celery_app
from celerytui.widgets.task_table import TaskTable
from celerytui.widgets.worker_table import WorkerTable
from tests.support.screens_ui import connected, notices, until
from tests.support.workers import WorkerProcess
from tests.ui.screen_text import screen_text

pytestmark = pytest.mark.redis
EMAIL = "celerytui.tasks.send_email"


@pytest.fixture(scope="module")
def clusters(redis_target, tmp_path_factory):
    """config path, {name: (client app, worker, backend db)} for contexts a and b[x] (a name
    with markup in it: the header must show it literally); context bad names no module."""
    home = tmp_path_factory.mktemp("switch")
    running: dict[str, tuple] = {}
    lines = ['current_context = "a"']
    try:
        for name, host in (("a", "ua"), ("b[x]", "ub")):
            broker_db, backend_db = redis_target.fresh_dbs(2)
            broker, backend = redis_target.url(broker_db), redis_target.url(backend_db)
            lines += [f'[contexts."{name}"]', f'broker_url = "{broker}"']
            lines += [f'result_backend = "{backend}"', f"read_only = {str(name != 'a').lower()}"]
            client = make_celery_app(load_settings(broker_url=broker, result_backend=backend))
            worker = WorkerProcess(broker, backend, home, name=host, queues="celery")
            running[name] = (client, worker, backend_db)
            worker.start(client)
        lines += ["[contexts.bad]", 'app = "no_such_module_celerytui_ctx"']  # cannot load
        config = home / "config.toml"
        config.write_text("\n".join(lines) + "\n")
        yield str(config), running
    finally:
        for client, worker, _db in running.values():
            worker.stop()
            client.close()


def _hostnames(app) -> set[str]:
    return {str(key.value) for key in app.screen.query_one(WorkerTable).rows}


def _task_rows(app) -> set[str]:
    return {str(key.value) for key in app.screen.query_one(TaskTable).rows}


def _results_clients(redis_target, db: int) -> int:
    """celerytui's result-watcher connections to ``db`` (CLIENT LIST)."""
    clients = redis.Redis(host=redis_target.host, port=redis_target.port).client_list()
    return sum(1 for c in clients if c.get("name") == CLIENT_NAME and int(c["db"]) == db)


def _pollers(monitor) -> int:
    """Live poller threads of ``monitor`` (not the process's: a test before may leave one)."""
    return sum(1 for t in monitor._threads if t.name == "celerytui-poller" and t.is_alive())


async def _switched(pilot, app, name: str) -> None:
    await until(
        pilot,
        lambda: app.settings.context == name and app.switching_to is None and connected(app),
        timeout=30,
        what=f"the switch to {name}",
    )


async def _refuses_writes(pilot, app) -> None:
    """b is read-only: its keys are hidden and do nothing, its controller refuses too."""
    footer = screen_text(app).splitlines()[-1]
    assert "Email" not in footer and "Shutdown" not in footer
    app.clear_notifications()
    await pilot.press("e")
    await pilot.press("S")  # the workers screen's shutdown: a notice says no
    await until(pilot, lambda: "read-only: shutdown refused" in notices(app), what="refusal")
    assert not isinstance(app.screen, PromptDialog | ConfirmDialog)
    assert app.is_read_only and app.monitor.controller.read_only


async def test_switching_context_shows_only_the_new_clusters_workers_and_tasks(
    clusters, redis_target
):
    config, running = clusters
    (client_a, worker_a, backend_a), (client_b, worker_b, _) = running["a"], running["b[x]"]
    loader = ContextLoader(config)
    app = make_app(load_settings(config), contexts=loader)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: connected(app), what="a's event stream")
        await pilot.press("4")
        await until(pilot, lambda: isinstance(app.screen, WorkersScreen), what="Workers")
        await until(pilot, lambda: worker_a.hostname in _hostnames(app), what="a's worker")
        assert _hostnames(app) == {worker_a.hostname}
        assert screen_text(app).splitlines()[0].startswith(" a · Workers")
        await pilot.press("2")
        in_a = client_a.send_task(EMAIL, args=["a1", "hi"]).id
        await until(pilot, lambda: in_a in _task_rows(app), what="a's task")
        assert "['a1', 'hi']" in screen_text(app)
        await until(pilot, lambda: _results_clients(redis_target, backend_a), what="a's results")
        old = app.monitor

        # fast typing, as a person would: the line takes every key after ":"
        await pilot.press("colon", *"ctx b", "tab")
        assert isinstance(app.screen, CommandLineScreen)
        await pilot.press("enter")
        await _switched(pilot, app, "b[x]")
        assert isinstance(app.screen, TasksScreen)  # the screen the user was on
        assert app.monitor is not old
        header = screen_text(app).splitlines()[0]
        assert header.startswith(" b[x] · Tasks") and "read-only" in header
        # the old monitor is gone: its poller thread and its result connections
        assert _pollers(old) == 0 and _pollers(app.monitor) == 1
        await until(pilot, lambda: _results_clients(redis_target, backend_a) == 0, what="a closed")

        later_in_a = client_a.send_task(EMAIL, args=["a2", "hi"]).id
        in_b = client_b.send_task(EMAIL, args=["b1", "hi"]).id
        await until(pilot, lambda: in_b in _task_rows(app), what="b's task")
        assert "['b1', 'hi']" in screen_text(app) and "'a1'" not in screen_text(app)
        assert _task_rows(app) == {in_b}
        assert set(app.monitor.state.tasks) == {in_b}
        assert later_in_a not in app.monitor.state.tasks
        await pilot.press("4")
        await until(pilot, lambda: worker_b.hostname in _hostnames(app), what="b's worker")
        assert _hostnames(app) == {worker_b.hostname}

        await _refuses_writes(pilot, app)

        # the palette's entry goes back to the writable a, ...
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        await pilot.press(*"switch cluster")
        await pilot.pause(0.5)
        assert "Switch cluster: a" in screen_text(app)
        await pilot.press("enter")
        await _switched(pilot, app, "a")
        await until(pilot, lambda: worker_a.hostname in _hostnames(app), what="a's worker again")
        assert _hostnames(app) == {worker_a.hostname}
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog), what="a writes")
        await pilot.press("escape")
        assert not app.is_read_only and not app.monitor.controller.read_only

        # ... and b, reached again from a writable context, still refuses
        await pilot.press("colon", *"ctx b[x]", "enter")
        await _switched(pilot, app, "b[x]")
        await until(pilot, lambda: worker_b.hostname in _hostnames(app), what="b's worker again")
        await _refuses_writes(pilot, app)


async def test_an_unknown_command_or_context_is_one_line_and_escape_closes(clusters):
    config, _running = clusters
    app = make_app(load_settings(config), contexts=ContextLoader(config), start_monitor=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon", *"ctx nope", "enter")
        await until(pilot, lambda: notices(app), what="a notice")
        assert notices(app)[-1] == "unknown context 'nope'; known: a, b[x], bad"
        await pilot.press("colon", *"frobnicate", "enter")
        await until(pilot, lambda: len(notices(app)) == 2, what="a second notice")
        assert notices(app)[-1].startswith("unknown command :'frobnicate' (try :ctx NAME, ")
        await pilot.press("colon", *"tasks")
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, (CommandLineScreen, TasksScreen))
        assert app.settings.context == "a"
        # a context that cannot be loaded is one notice, and the cluster stays
        await pilot.press("colon", *"ctx bad", "enter")
        await until(pilot, lambda: app.switching_to is None and len(notices(app)) == 3, what="3")
        assert notices(app)[-1].startswith("cannot switch to bad: ")
        assert "no_such_module_celerytui_ctx" in notices(app)[-1]
        assert app.settings.context == "a" and app.current_mode == "dashboard"
        # a ":" typed into the tasks filter is a ":" of the filter
        await pilot.press("2", "slash", *"name", "colon", "x")
        await pilot.pause(0.2)
        assert isinstance(app.screen, TasksScreen)
        assert app.focused is not None and getattr(app.focused, "value", None) == "name:x"
