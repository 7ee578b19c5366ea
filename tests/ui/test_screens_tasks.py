"""The Tasks screen against a real Redis and a real worker (send_email takes 30 s here):
revoke, terminate behind a confirmation, the `/` filter, and --read-only refusals."""

from __future__ import annotations

import pytest

from celerytui.app import make_app
from celerytui.config import load_settings
from celerytui.screens.dialogs import ConfirmDialog, PromptDialog
from celerytui.screens.tasks import TasksScreen
from tests.support.screens_ui import connected, module_worker, notices, row_state, until
from tests.ui.screen_text import screen_text

pytestmark = pytest.mark.redis

EMAIL = "celerytui.tasks.send_email"
VALIDATE = "celerytui.tasks.validate_order"


@pytest.fixture(scope="module")
def slow_email(redis_target, tmp_path_factory):
    with module_worker(
        redis_target,
        tmp_path_factory.mktemp("tasks-screen"),
        "slowmail",
        extra_env={"CELERYTUI_EMAIL_DELAY": "30"},
    ) as cluster:
        yield cluster


def _app(cluster, **overrides):
    broker, backend, _client, _worker = cluster
    return make_app(load_settings(broker_url=broker, result_backend=backend, **overrides))


async def _tasks_screen(pilot, app) -> TasksScreen:
    await until(pilot, lambda: connected(app), what="the event stream to connect")
    # a heartbeat seen means the event subscription is live: no task event gets missed
    await until(pilot, lambda: app.monitor.state.workers, what="a worker heartbeat")
    await pilot.press("2")
    return await until(
        pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen, what="the Tasks screen"
    )


async def _select(pilot, screen: TasksScreen, uuid: str, state: str) -> None:
    """Wait for ``uuid``'s row to show ``state``, then put the cursor on it."""
    await until(
        pilot,
        lambda: row_state(screen.table, uuid) == state,
        what=f"{uuid[:8]} {state} in the table",
    )
    screen.table.follow = False
    screen.table.move_cursor(row=screen.table.get_row_index(uuid), animate=False)
    await pilot.pause()
    assert screen.selected_task() == uuid


async def test_x_asks_first_then_revokes_a_task_waiting_for_its_countdown(slow_email):
    client = slow_email[2]
    app = _app(slow_email)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _tasks_screen(pilot, app)
        uuid = client.send_task(VALIDATE, args=[7001], countdown=8).id
        await _select(pilot, screen, uuid, "RECEIVED")
        await pilot.press("x")
        dialog = await until(
            pilot,
            lambda: isinstance(app.screen, ConfirmDialog) and app.screen,
            what="the revoke confirmation",
        )
        assert dialog._question.startswith(f"Revoke task {uuid} ({VALIDATE}, RECEIVED)?")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, what="the dialog to close")
        await pilot.pause(0.5)
        revoked = client.control.inspect(timeout=1.0).revoked() or {}
        assert not [ids for ids in revoked.values() if uuid in ids], revoked
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the dialog")
        await pilot.press("y")
        await until(
            pilot,
            lambda: row_state(screen.table, uuid) == "REVOKED",
            timeout=15,
            what="REVOKED in the row",
        )
        await until(
            pilot,
            lambda: any(
                "REVOKED" in line and "validate_o" in line for line in screen_text(app).splitlines()
            ),
            what="the REVOKED row on screen",
        )


async def test_x_on_a_finished_task_says_so_and_asks_nothing(slow_email):
    client = slow_email[2]
    app = _app(slow_email)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await _tasks_screen(pilot, app)
        uuid = client.send_task(VALIDATE, args=[7002]).id
        await _select(pilot, screen, uuid, "SUCCESS")
        await pilot.press("x")
        await until(
            pilot,
            lambda: (
                f"revoke: task {uuid} has already finished (SUCCESS); nothing to revoke"
                in notices(app)
            ),
            what="the already-finished notice",
        )
        assert app.screen is screen


async def test_X_asks_first_and_only_yes_terminates_a_running_send_email(slow_email):
    client = slow_email[2]
    app = _app(slow_email)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _tasks_screen(pilot, app)
        uuid = client.send_task(EMAIL, args=["long@example.com", "slow"]).id
        await _select(pilot, screen, uuid, "STARTED")
        await pilot.press("X")
        dialog = await until(
            pilot,
            lambda: isinstance(app.screen, ConfirmDialog) and app.screen,
            what="the terminate confirmation",
        )
        assert uuid in screen_text(app)  # the question names the task
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, what="the dialog to close")
        assert dialog is not app.screen
        await pilot.pause(1.5)  # long enough for a revoke to come back as an event
        assert row_state(screen.table, uuid) == "STARTED"
        await pilot.press("X")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the dialog")
        await pilot.press("y")
        await until(
            pilot,
            lambda: row_state(screen.table, uuid) in ("REVOKED", "FAILURE"),
            timeout=15,
            what="the terminated task to end",
        )
        assert row_state(screen.table, uuid) == "REVOKED"


async def test_filter_by_name_negated_state_and_a_bad_regex(slow_email):
    client = slow_email[2]
    app = _app(slow_email)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _tasks_screen(pilot, app)
        emails = [
            client.send_task(EMAIL, args=[f"f{i}@example.com", "x"], countdown=600).id
            for i in range(2)
        ]
        orders = [client.send_task(VALIDATE, args=[8000 + i]).id for i in range(2)]
        for uuid in orders:
            await until(
                pilot,
                lambda u=uuid: row_state(screen.table, u) == "SUCCESS",
                what="validate_order SUCCESS",
            )
        for uuid in emails:
            await until(
                pilot,
                lambda u=uuid: row_state(screen.table, u) == "RECEIVED",
                what="send_email RECEIVED",
            )

        def shown() -> set[str]:
            return {str(key.value) for key in screen.table.rows}

        await pilot.press("slash", *"name:send_email", "enter")
        await until(pilot, lambda: screen.filter_text == "name:send_email", what="the filter")
        assert set(emails) <= shown() and not set(orders) & shown()
        assert all("send_email" in row[2].plain for row in map(screen.table.get_row, shown()))
        assert "matching name:send_email" in screen_text(app)

        await pilot.press("slash")
        screen.query_one("#tasks-filter-input").value = ""
        await pilot.press(*"!state:SUCCESS", "enter")
        await until(pilot, lambda: screen.filter_text == "!state:SUCCESS", what="the negation")
        assert set(emails) <= shown() and not set(orders) & shown()
        assert all(row_state(screen.table, u) != "SUCCESS" for u in shown())

        await pilot.press("slash")
        # pasted at once: typed key by key under load, the debounced filter may apply "name:"
        # (a good filter) before the "(" arrives, and that would be the last good one
        screen.query_one("#tasks-filter-input").value = "name:("
        await pilot.press("enter")
        await until(
            pilot,
            lambda: "filter error: bad regex" in screen_text(app),
            what="the one-line filter error",
        )
        assert screen.filter_text == "!state:SUCCESS"  # the last good filter still applies
        assert set(emails) <= shown() and not set(orders) & shown()


async def test_read_only_hides_and_refuses_x_X_and_L(slow_email):
    client = slow_email[2]
    app = _app(slow_email, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _tasks_screen(pilot, app)
        uuid = client.send_task(VALIDATE, args=[9001], countdown=2).id
        await _select(pilot, screen, uuid, "RECEIVED")
        footer = screen_text(app).splitlines()[-1]
        assert "Revoke" not in footer and "Terminate" not in footer and "Filter" in footer
        for key, what in (("x", "revoke"), ("X", "terminate"), ("L", "rate limit")):
            await pilot.press(key)
            await until(
                pilot,
                lambda w=what: f"read-only: {w} refused" in notices(app),
                what=f"the {what} refusal notice",
            )
            assert not isinstance(app.screen, ConfirmDialog | PromptDialog)
        # the countdown ends and the task runs: nothing was revoked
        await until(
            pilot,
            lambda: row_state(screen.table, uuid) == "SUCCESS",
            timeout=15,
            what="the untouched task to succeed",
        )


async def test_L_validates_the_rate_then_sets_it_and_R_reruns_the_selected_task(slow_email):
    client = slow_email[2]
    app = _app(slow_email)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _tasks_screen(pilot, app)
        uuid = client.send_task(VALIDATE, args=[5150]).id
        await _select(pilot, screen, uuid, "SUCCESS")
        await pilot.press("L")
        dialog = await until(
            pilot,
            lambda: (
                isinstance(app.screen, PromptDialog) and app.screen.query("Input") and app.screen
            ),
            what="the rate prompt",
        )
        assert "celerytui.tasks.validate_order" in screen_text(app)
        dialog.query_one("Input").value = "fast"
        await pilot.press("enter")
        await until(
            pilot,
            lambda: "rate must look like 10/m" in screen_text(app),
            what="the one-line rate error",
        )
        dialog.query_one("Input").value = "100/m"
        await pilot.press("enter")
        await until(
            pilot,
            lambda: any(n.startswith("rate limit 100/m: sent to 1 worker") for n in notices(app)),
            what="the rate limit reply",
        )
        await until(pilot, lambda: app.screen is screen, what="back on the table")
        before = set(app.monitor.state.tasks)
        await pilot.press("R")

        def rerun():
            for new in set(app.monitor.state.tasks) - before:
                task = app.monitor.state.tasks[new]
                if (
                    task.name == VALIDATE
                    and task.args in ("(5150,)", "[5150]")
                    and task.state == "SUCCESS"
                ):
                    return new
            return None

        again = await until(pilot, rerun, what="the re-run task to succeed")
        await until(
            pilot, lambda: row_state(screen.table, again) == "SUCCESS", what="the re-run row"
        )
        client.control.rate_limit(VALIDATE, None, reply=True, timeout=1.0)
