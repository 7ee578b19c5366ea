"""Watching someone else's app (``-A proj``): a real proj worker (tests/support/proj_app.py,
no seed tasks) started ``--without-heartbeat`` like celery.contrib.pytest's worker.

The seed's keys (h d o e) and ``fire http|disk|order|email`` send ``celerytui.tasks.*``, which
proj's workers discard: they are not offered, and refused in one line; ``t`` still sends any
registered task. A worker without heartbeats shows its processed count from inspect stats.
"""

from __future__ import annotations

import pytest

from celerytui.app import make_app
from celerytui.config import load_settings
from celerytui.core.monitor import Monitor
from celerytui.screens.dialogs import HelpScreen, PromptDialog, TaskPickerDialog
from celerytui.screens.palette import action_commands
from celerytui.screens.workers import WorkersScreen
from celerytui.widgets.worker_table import WorkerTable
from tests.support.commands import celerytui, command_env
from tests.support.proj_app import make_proj_app, proj_worker
from tests.support.screens_ui import connected, notices, until
from tests.ui.screen_text import screen_text

pytestmark = pytest.mark.redis

SEED_KEYS = {
    "h": ("HTTP check", "celerytui.tasks.check_http_endpoint"),
    "d": ("disk check", "celerytui.tasks.check_disk_usage"),
    "o": ("order chain", "celerytui.tasks.validate_order"),
    "e": ("send_email", "celerytui.tasks.send_email"),
}
SEED_FOOTER = ("HTTP", "Disk", "Order", "Email")


@pytest.fixture(scope="module")
def proj(redis_target, tmp_path_factory):
    """(broker, backend, client app, worker): proj's worker, without heartbeats."""
    broker_db, backend_db = redis_target.fresh_dbs(2)
    broker, backend = redis_target.url(broker_db), redis_target.url(backend_db)
    client = make_proj_app(broker, backend)
    worker = proj_worker(broker, backend, tmp_path_factory.mktemp("proj"), heartbeats=False)
    try:
        worker.start(client)
        yield broker, backend, client, worker
    finally:
        worker.stop()
        client.close()


def _proj_tui(proj):
    broker, backend, _client, _worker = proj
    settings = load_settings(
        broker_url=broker, result_backend=backend, app="tests.support.proj_app"
    )
    return make_app(settings, Monitor(settings, app=make_proj_app(broker, backend)))


def _seed_tasks_seen(app) -> list[str]:
    with app.monitor.lock:
        return [
            t.name
            for t in app.monitor.state.tasks.values()
            if (t.name or "").startswith("celerytui.")
        ]


async def test_seed_keys_are_not_offered_under_proj_and_refused_in_one_line(proj):
    app = _proj_tui(proj)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await until(pilot, lambda: connected(app), what="the event stream to connect")
        footer = await until(
            pilot,
            lambda: "Task" in (line := screen_text(app).splitlines()[-1]) and line,
            what="the footer to show the t key",
        )
        assert not [word for word in SEED_FOOTER if word in footer], footer
        titles = [command.title for command in action_commands(app, app.screen)]
        assert any(title.startswith("Fire any registered task") for title in titles)
        assert not [
            t for t in titles if "HTTP" in t or "disk" in t or "order" in t or "send_email" in t
        ], titles
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        help_text = screen_text(app)
        assert "Task  (app)" in help_text
        assert not [word for word in SEED_FOOTER if f"{word}  (app)" in help_text], help_text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help closed")

        for key, (what, task) in SEED_KEYS.items():
            await pilot.press(key)
            line = f"{what}: proj does not register {task}; t sends any task it does"
            await until(pilot, lambda line=line: line in notices(app), what=f"{key} refused")
            assert not isinstance(app.screen, PromptDialog)

        # t stays: proj's own task goes out, and after it nothing of the seed's ever did
        await pilot.press("t")
        picker = await until(
            pilot,
            lambda: (
                isinstance(app.screen, TaskPickerDialog)
                and app.screen.query("#name")
                and app.screen
            ),
            what="the picker",
        )
        assert "proj.add" in picker._names and not any(
            n.startswith("celerytui.") for n in picker._names
        )
        picker.query_one("#name").value = "proj.add"
        picker.query_one("#args").value = "[20, 22]"
        picker._submit()

        def added():
            with app.monitor.lock:
                return [
                    t
                    for t in app.monitor.state.tasks.values()
                    if t.name == "proj.add" and t.state == "SUCCESS"
                ]

        await until(pilot, added, what="proj.add to succeed")
        assert _seed_tasks_seen(app) == []
        assert not [n for n in notices(app) if "NotRegistered" in n]


async def test_the_seed_app_still_offers_its_keys(proj):
    broker, backend, _client, _worker = proj
    app = make_app(load_settings(broker_url=broker, result_backend=backend), start_monitor=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: app._drawn_screen is not None, what="the first draw")
        footer = screen_text(app).splitlines()[-1]
        assert all(word in footer for word in SEED_FOOTER), footer
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog), what="the order prompt")


async def test_a_worker_without_heartbeats_shows_processed_from_inspect_stats(proj):
    _broker, _backend, client, worker = proj
    for i in range(3):
        assert client.send_task("proj.mul", args=(i, 3)).get(timeout=20) == i * 3
    app = _proj_tui(proj)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: connected(app), what="the event stream to connect")
        await pilot.press("4")
        screen = await until(
            pilot,
            lambda: isinstance(app.screen, WorkersScreen) and app.screen,
            what="the Workers screen",
        )
        table = screen.query_one(WorkerTable)

        def row():
            try:
                return [cell.plain for cell in table.get_row(worker.hostname)]
            except Exception:
                return None

        cells = await until(
            pilot,
            lambda: (r := row()) and r[2] == "off" and r,
            timeout=30,
            what="the worker's Beat cell to say off",
        )
        stats = client.control.inspect(destination=[worker.hostname], timeout=2).stats()
        processed = sum(stats[worker.hostname]["total"].values())
        assert processed >= 3
        await until(
            pilot,
            lambda: (r := row()) and r[5] == str(processed),
            timeout=20,
            what=f"Done {processed} from inspect stats",
        )
        assert cells[1] == "online"
        assert "heartbeats off on 1: counts from inspect stats" in screen_text(app)
        await pilot.press("1")  # the dashboard's pane says so too, with the same count
        pane = await until(
            pilot,
            lambda: next(
                (line for line in screen_text(app).splitlines() if "heartbeats off" in line), None
            ),
            what="the worker pane to say heartbeats off",
        )
        assert worker.hostname in pane
        assert f"processed {processed}" in screen_text(app)


def test_fire_refuses_the_seed_tasks_under_proj_and_sends_nothing(proj):
    broker, backend, _client, _worker = proj
    env = command_env(CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=backend)
    for args, task in (
        (["http", "http://127.0.0.1:9/health"], "check_http_endpoint"),
        (["disk", "local"], "check_disk_usage"),
        (["order", "1001"], "validate_order"),
        (["email", "ops@example.com", "hi"], "send_email"),
    ):
        done = celerytui("fire", "-A", "tests.support.proj_app", *args, env=env)
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""  # no task id: nothing was sent
        assert done.stderr.strip().splitlines() == [
            f"Error: unknown task 'celerytui.tasks.{task}': no worker has it registered"
        ]
    sent = celerytui(
        "fire",
        "-A",
        "tests.support.proj_app",
        "task",
        "proj.add",
        "--args",
        "[1, 2]",
        "--wait",
        env=env,
    )
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.splitlines()[1] == "3"
