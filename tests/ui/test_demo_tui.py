"""The dashboard on the demo's cluster, as `celerytui demo` opens it: both workers online and
both HTTP targets in the checks panel (one of them DOWN), then `q` quits."""

from __future__ import annotations

from pathlib import Path

import pytest

from celerytui.config import Settings
from tests.ui.conftest import wait_until
from tests.ui.screen_text import screen_text


@pytest.fixture
def demo_session():
    """The whole demo system (embedded Redis, two workers, beat, HTTP targets, workload)."""
    from celerytui.demo.session import DemoSession

    session = DemoSession(Settings(), seed=3)
    try:
        session.start()
        yield session
    finally:
        session.stop()
    assert not Path(session.log_dir).exists()


def _worker_line(text: str, prefix: str) -> str | None:
    return next((line for line in text.splitlines() if f"{prefix}@" in line), None)


def _check_lines(text: str, base_url: str) -> list[str]:
    """The checks panel's rows about the demo's HTTP server (the panel is right of '▏')."""
    return [line.split("▏")[-1] for line in text.splitlines()
            if "▏" in line and base_url in line.split("▏")[-1]]


@pytest.mark.timeout(60)
async def test_demo_dashboard_shows_both_workers_and_both_targets(demo_session):
    from celerytui.app import make_app

    app = make_app(demo_session.settings, monitor=demo_session.monitor, start_monitor=False)
    base = demo_session.http.base_url.removeprefix("http://")
    async with app.run_test(size=(160, 48)) as pilot:
        def workers_online():
            text = screen_text(app)
            lines = [_worker_line(text, "demo-http"), _worker_line(text, "demo-disk")]
            return all(line and "online" in line for line in lines)

        await wait_until(pilot, workers_online, timeout=20, what="both demo workers online")
        lines = _check_lines(screen_text(app), base)
        assert len(lines) == 2, lines  # both targets listed (checked or not yet)
        await wait_until(pilot, lambda: any("/healthy" in line and "UP" in line for line in
                                            _check_lines(screen_text(app), base)),
                         timeout=20, what="the healthy target UP")
        await wait_until(pilot, lambda: any("DOWN" in line for line in
                                            _check_lines(screen_text(app), base)),
                         timeout=25, what="the flaky target DOWN")
        assert "demo" in screen_text(app).splitlines()[0]  # the header names the cluster
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, timeout=5, what="q to quit")
