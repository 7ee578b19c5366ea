"""The UI's seams: a table's chosen row opens its detail on any screen (the app handles the
tables' messages once), one read-only table names every mutating key, and the UI keeps to
Textual's public API with no screen or widget importing the app. The real app over the fixed
synthetic cluster (no broker)."""

from __future__ import annotations

import ast
from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Footer

from celerytui.app import MODE_SCREENS
from celerytui.screens import ClusterScreen
from celerytui.screens.bindings import each_binding
from celerytui.screens.read_only import MUTATING_ACTIONS, action_name
from celerytui.screens.task_detail import TaskDetailScreen
from celerytui.screens.worker_detail import WorkerDetailScreen
from celerytui.widgets.failure_table import FailureTable
from celerytui.widgets.keyed_table import KeyedTable
from celerytui.widgets.worker_table import WorkerTable
from tests.support.screens_ui import mounted_screen, until
from tests.ui.snapshot_app import build, until_drawn

PACKAGE = Path(__file__).resolve().parents[2] / "celerytui"


class PicksScreen(ClusterScreen):
    """A screen the app knows nothing about, showing failures and workers."""

    def compose(self) -> ComposeResult:
        yield FailureTable(id="picks-failures")
        yield WorkerTable(id="picks-workers")
        yield Footer()

    def refresh_view(self, monitor, changes) -> None:
        state = monitor.state
        self.query_one(FailureTable).show(state.tasks, state.failures, self.app.format_time)
        self.query_one(WorkerTable).show(state.workers, self.app.now(), None)


async def _enter_on(pilot, table: KeyedTable) -> str:
    await until(pilot, lambda: table.row_count > 1, what=f"rows in {type(table).__name__}")
    table.focus()
    table.move_cursor(row=1, animate=False)
    await pilot.pause()
    key = table.selected_key()
    assert key
    await pilot.press("enter")
    return key


async def test_enter_on_a_row_opens_its_detail_on_every_screen():
    app = build()
    async with app.run_test(size=(120, 40)) as pilot:
        await until_drawn(pilot)
        for mode_key, table_type, detail_type in (
            ("1", "TaskTail", TaskDetailScreen),
            ("2", "TaskTable", TaskDetailScreen),
            ("3", "FailureTable", TaskDetailScreen),
            ("4", "WorkerTable", WorkerDetailScreen),
        ):
            await pilot.press(mode_key)
            screen = await until(
                pilot,
                lambda t=table_type: app.screen.query(t) and app.screen,
                what=f"the screen of key {mode_key}",
            )
            key = await _enter_on(pilot, screen.query_one(table_type))
            detail = await mounted_screen(pilot, app, detail_type, what=f"{mode_key}'s detail")
            if detail_type is TaskDetailScreen:
                assert detail.uuid == key
                assert detail.at_traceback is (mode_key == "3")  # a failure: at its traceback
            else:
                assert detail.hostname == key
            await pilot.press("escape")
            await until(pilot, lambda d=detail_type: not isinstance(app.screen, d), what="back")


async def test_a_new_screens_tables_open_their_rows_with_no_handler_of_its_own():
    app = build()
    async with app.run_test(size=(120, 40)) as pilot:
        await until_drawn(pilot)
        screen = PicksScreen()
        app.push_screen(screen)
        await until(
            pilot, lambda: screen.is_mounted and screen.query(FailureTable), what="the new screen"
        )
        uuid = await _enter_on(pilot, screen.query_one(FailureTable))
        detail = await mounted_screen(pilot, app, TaskDetailScreen, what="the failure's detail")
        assert detail.uuid == uuid and detail.at_traceback
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, what="back on the new screen")
        hostname = await _enter_on(pilot, screen.query_one(WorkerTable))
        detail = await mounted_screen(pilot, app, WorkerDetailScreen, what="the worker detail")
        assert detail.hostname == hostname


def test_the_read_only_table_names_bound_actions_only():
    """Every mutating action is bound somewhere (the table holds no stale name), and every
    key of the app and its screens that reaches the Controller is in the table."""
    from celerytui.app import CeleryTUI

    nodes = [
        CeleryTUI,
        *(cls for _k, _t, cls in MODE_SCREENS.values()),
        TaskDetailScreen,
        WorkerDetailScreen,
    ]
    bound = {action_name(b.action) for node in nodes for b in each_binding(node.__new__(node))}
    assert set(MUTATING_ACTIONS) <= bound
    changing = {
        "fire_http",
        "fire_disk",
        "fire_order",
        "fire_email",
        "fire_task",
        "rerun_selected",
        "revoke_task",
        "terminate_task",
        "rate_limit_task",
        "pool_grow",
        "pool_shrink",
        "autoscale",
        "add_consumer",
        "cancel_consumer",
        "shutdown_worker",
        "purge_queue",
    }
    assert changing <= set(MUTATING_ACTIONS)


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_screens_and_widgets_never_import_the_app_nor_textuals_private_bindings():
    ui_files = [*PACKAGE.glob("screens/*.py"), *PACKAGE.glob("widgets/*.py")]
    assert ui_files
    for path in ui_files:
        assert "celerytui.app" not in _imports(path), path  # even under TYPE_CHECKING
    for path in [PACKAGE / "app.py", *ui_files]:
        tree = ast.parse(path.read_text())
        private = [
            n.lineno
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and n.attr == "_bindings"
        ]
        assert not private, f"{path.name} reads Textual's _bindings at lines {private}"


def test_no_not_built_yet_fallback_is_left():
    for path in [PACKAGE / "app.py", PACKAGE / "cli.py", *PACKAGE.glob("screens/*.py")]:
        assert "not built yet" not in path.read_text(), path
    assert all(
        isinstance(cls, type) and issubclass(cls, ClusterScreen)
        for _k, _t, cls in MODE_SCREENS.values()
    )
