"""NO_COLOR is honoured: the same dashboard, drawn in greys only."""

from __future__ import annotations

import re

from tests.ui import snapshot_app

HEX = re.compile(r"#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})\b")


async def _colours(monkeypatch, no_color: bool) -> set[tuple[int, int, int]]:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = snapshot_app.build()
    async with app.run_test(size=(80, 24)) as pilot:
        await snapshot_app.until_drawn(pilot)
        svg = app.export_screenshot()
    return {tuple(int(h, 16) for h in m.groups()) for m in HEX.finditer(svg)}


# the screenshot's window decoration (close / minimise / maximise dots), not the app
WINDOW_DOTS = {(255, 95, 87), (254, 188, 46), (40, 200, 64)}


def _chromatic(colours) -> set:
    return {c for c in colours - WINDOW_DOTS if max(c) - min(c) > 8}


async def test_no_color_draws_the_dashboard_in_greys(monkeypatch):
    assert _chromatic(await _colours(monkeypatch, no_color=False))  # normally: red, green...
    assert _chromatic(await _colours(monkeypatch, no_color=True)) == set()
