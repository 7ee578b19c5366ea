"""The dashboard's picture at 80x24 and 160x48 from a fixed cluster state (no clock, no
randomness): header, alert banners, worker panes, checks, throughput, task tail, footer."""

from __future__ import annotations

from tests.ui import snapshot_app


def test_dashboard_80x24(snap_compare):
    assert snap_compare(
        snapshot_app.build(), terminal_size=(80, 24), run_before=snapshot_app.until_drawn
    )


def test_dashboard_160x48(snap_compare):
    assert snap_compare(
        snapshot_app.build(workers=6), terminal_size=(160, 48), run_before=snapshot_app.until_drawn
    )


def test_dashboard_many_workers_compact_80x24(snap_compare):
    assert snap_compare(
        snapshot_app.build(workers=30), terminal_size=(80, 24), run_before=snapshot_app.until_drawn
    )


def test_help_lists_bindings_80x24(snap_compare):
    assert snap_compare(
        snapshot_app.build(),
        terminal_size=(80, 24),
        press=["question_mark"],
        run_before=snapshot_app.until_drawn,
    )
