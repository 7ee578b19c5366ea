"""Text from the cluster is shown literally: Rich markup is not interpreted and terminal
escapes are spelled out, in the task tail, worker panes, alerts and notifications."""

from __future__ import annotations

import pytest

from celerytui.app import make_app
from celerytui.text_safety import literal
from tests.ui import snapshot_app
from tests.ui.conftest import wait_until
from tests.ui.screen_text import screen_text
from tests.ui.synthetic_cluster import NOW

EVIL = "[bold red]boom[/] \x1b[31mred"
SHOWN = "[bold red]boom[/] \\x1b[31mred"  # what the user must read


def test_literal_keeps_markup_and_spells_out_escapes():
    text = literal(EVIL + "\x07\u202e")
    assert text.plain == SHOWN + "\\x07\\u202e"
    assert not text.spans  # no style came from the value
    assert literal("x" * 50, max_len=10).plain == "x" * 9 + "…"
    assert literal("a\nb", keep_newlines=True).plain == "a\nb"
    assert literal("a\nb").plain == "a\\nb"


async def test_markup_and_escapes_in_task_worker_and_alert_text_show_literally():
    app = snapshot_app.build(workers=1, tasks=2)
    state = app.monitor.state
    evil_host = "evil[b]host\x1b[2J"
    state.apply(
        [
            {
                "type": "worker-heartbeat",
                "hostname": evil_host,
                "timestamp": NOW - 1,
                "local_received": NOW - 1,
                "freq": 2.0,
                "active": 0,
                "processed": 1,
            },
            {
                "type": "task-received",
                "uuid": "evil-0001",
                "name": "evil.[i]task[/i]",
                "args": EVIL,
                "kwargs": "{}",
                "hostname": evil_host,
                "timestamp": NOW - 1,
                "local_received": NOW - 1,
            },
            {
                "type": "task-failed",
                "uuid": "evil-0001",
                "hostname": evil_host,
                "exception": "ValueError('[blink]x[/] \x1b]0;pwned\x07')",
                "timestamp": NOW,
                "local_received": NOW,
            },
        ]
    )
    app.monitor.alerts.evaluate(state, None, now=NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await snapshot_app.until_drawn(pilot)
        text = screen_text(app)
        assert SHOWN in text  # args column
        assert "evil[b]host\\x1b[2J" in text  # worker pane and worker column
        assert "[i]task[/i]" in text  # task name
        assert "\x1b" not in text


@pytest.mark.redis
async def test_args_sent_through_a_real_worker_show_literally(ui_settings):
    app = make_app(ui_settings())
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: app.monitor.events.status.connected, what="connected")
        app.fire("fire_email", EVIL, "x", label="evil email")
        await wait_until(
            pilot,
            lambda: SHOWN in screen_text(app) and "SUCCESS" in screen_text(app),
            what="the evil args in the task tail",
        )


async def test_notifications_show_markup_and_escapes_literally():
    app = snapshot_app.build()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await snapshot_app.until_drawn(pilot)
        app.notify(f"sent {EVIL}", title="[b]t[/b]")
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "[bold red]boom[/]" in text and "\\x1b[31mred" in text
        assert "[b]t[/b]" in text
