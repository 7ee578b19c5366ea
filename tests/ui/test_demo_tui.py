"""The dashboard on the demo's cluster, as `celerytui demo` opens it: both workers online and
both HTTP targets in the checks panel (one of them DOWN), then `q` quits."""

from __future__ import annotations

from pathlib import Path

import pytest

from celerytui.config import Settings
from celerytui.core.journal import JournalError, open_store
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


def _http_rows(text: str) -> list[str]:
    """The checks panel's HTTP rows (the panel is right of '▏'; URLs may be cut short, so
    rows are found between its "HTTP" and "Disk" headings, not by URL)."""
    panel = [line.split("▏")[-1].strip() for line in text.splitlines() if "▏" in line]
    if "HTTP" not in panel or "Disk" not in panel:
        return []
    return [row for row in panel[panel.index("HTTP") + 1 : panel.index("Disk")] if row]


@pytest.mark.timeout(60)
async def test_demo_dashboard_shows_both_workers_and_both_targets(demo_session):
    from celerytui.app import make_app
    from celerytui.commands.demo import _make_demo_app

    app = _make_demo_app(make_app, demo_session)
    async with app.run_test(size=(160, 48)) as pilot:

        def workers_online():
            text = screen_text(app)
            lines = [_worker_line(text, "demo-http"), _worker_line(text, "demo-disk")]
            return all(line and "online" in line for line in lines)

        await wait_until(pilot, workers_online, timeout=20, what="both demo workers online")

        def both_checked():
            rows = _http_rows(screen_text(app))
            return len(rows) == 2 and not any("not checked" in row for row in rows) and rows

        rows = await wait_until(pilot, both_checked, timeout=20, what="both targets checked")
        assert any(row.startswith("▲ UP") for row in rows), rows  # healthy is always UP
        await wait_until(
            pilot,
            lambda: any(row.startswith("▼ DOWN") for row in _http_rows(screen_text(app))),
            timeout=25,
            what="the flaky target DOWN",
        )
        assert "demo" in screen_text(app).splitlines()[0]  # the header names the cluster
        assert f"logs in {demo_session.log_dir}" in screen_text(app)  # and where the logs are
        await pilot.press("6")  # the schedule beat really runs: the demo's, not the seed's
        await wait_until(
            pilot,
            lambda: "demo-disk-check-local" in screen_text(app),
            timeout=5,
            what="the demo's beat schedule",
        )
        assert "demo-http-check-0" in screen_text(app)
        recorder = await wait_until(
            pilot,
            lambda: app._recorder is not None and app._recorder.status.recording and app._recorder,
            timeout=20,
            what="the demo recording (its journal child)",
        )

        def recorded_tasks():  # the child subscribes a moment after the dashboard: wait
            try:
                reader = open_store(demo_session.settings.store, cluster="x", write=False)
            except JournalError:
                return None
            try:
                return reader.find_tasks(limit=5)
            finally:
                reader.close()

        await wait_until(
            pilot, recorded_tasks, timeout=30, what="tasks in the journal the child writes"
        )
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, timeout=10, what="q to quit")
    assert recorder.ended.is_set()  # q left no journal child behind
    reader = open_store(demo_session.settings.store, cluster="x", write=False)
    try:
        assert reader.find_tasks(limit=5)  # what the child recorded, the dashboard reads
    finally:
        reader.close()
