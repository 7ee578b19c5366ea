"""The typed monitor contract: the real Monitor and the snapshot fake are both MonitorViews,
and the app, screens and widgets read the monitor only through MonitorView's members (never
by probing it with getattr / hasattr)."""

from __future__ import annotations

import ast
from pathlib import Path

import celerytui
from celerytui.config import Settings
from celerytui.core.monitor import Monitor
from celerytui.core.monitor_view import MonitorView
from tests.ui.synthetic_cluster import FakeMonitor, build_monitor

UI_FILES = sorted(
    [
        Path(celerytui.__file__).parent / "app.py",
        *(Path(celerytui.__file__).parent / "screens").glob("*.py"),
        *(Path(celerytui.__file__).parent / "widgets").glob("*.py"),
    ]
)
MEMBERS = set(MonitorView.__annotations__) | {
    name for name in vars(MonitorView) if not name.startswith("_")
}


def test_the_real_monitor_is_a_monitor_view_before_it_starts():
    monitor = Monitor(
        Settings(broker_url="redis://:s3cret@127.0.0.1:1/0", result_backend="redis://127.0.0.1:1/1")
    )
    assert isinstance(monitor, MonitorView)
    # what the header and the Queues screen read answers before anything arrived
    assert monitor.events_per_second() == 0.0
    assert monitor.queue_depths == [] and monitor.queue_history == {}
    assert monitor.broker_display == "redis://:****@127.0.0.1:1/0"
    assert monitor.events.status.connected is False
    assert monitor.app is not None


def test_the_snapshot_fake_implements_the_contract_explicitly():
    assert MonitorView in FakeMonitor.__mro__
    fake = build_monitor(workers=1, tasks=1)
    assert isinstance(fake, MonitorView)
    assert fake.events.status.connected and fake.app is None and fake.queue_depths == []
    fake.watch_result("any-task-id")  # a no-op, as for a monitor without a result backend


def _is_monitor(node: ast.expr) -> bool:
    """``monitor``, ``self.monitor`` or ``self.app.monitor``."""
    return (isinstance(node, ast.Name) and node.id == "monitor") or (
        isinstance(node, ast.Attribute) and node.attr == "monitor"
    )


def _monitor_reads() -> tuple[set[str], list[str]]:
    read, probes = set(), []
    for path in UI_FILES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and _is_monitor(node.value):
                read.add(node.attr)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and node.args
                and _is_monitor(node.args[0])
            ):
                probes.append(f"{path.name}:{node.lineno}")
    return read, probes


def test_the_ui_reads_the_monitor_only_through_the_contract():
    read, probes = _monitor_reads()
    assert probes == []
    assert {
        "state",
        "lock",
        "events",
        "alerts",
        "controller",
        "queue_depths",
        "events_per_second",
        "watch_result",
        "app",
    } <= read  # the scan sees the reads
    assert read - MEMBERS == set()


def test_the_app_implements_every_member_screens_call_on_it():
    from celerytui.app import CeleryTUI
    from celerytui.screens.host import ScreenHost

    members = [name for name in vars(ScreenHost) if not name.startswith("_")]
    assert {"now", "format_time", "controller_call", "refuse_if_read_only"} <= set(members)
    # ScreenHost's own bodies raise NotImplementedError: CeleryTUI must override each one
    assert [name for name in members if getattr(CeleryTUI, name) is getattr(ScreenHost, name)] == []
