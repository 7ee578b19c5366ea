"""The real app over a fixed, unconnected cluster, for snapshots (and `textual run` by hand:
``.venv/bin/textual run tests/ui/snapshot_app.py``)."""

from __future__ import annotations

from celerytui.app import CeleryTUI, make_app
from tests.ui.synthetic_cluster import build_monitor, fixed_clock, snapshot_settings


def build(workers: int = 3, tasks: int = 40, **settings) -> CeleryTUI:
    """A fresh app: real ClusterState from synthetic events, fixed clock, no broker."""
    return make_app(
        snapshot_settings(**settings),
        monitor=build_monitor(workers, tasks),
        clock=fixed_clock,
        start_monitor=False,
    )


async def until_drawn(pilot) -> None:
    """Wait for a few pump ticks: the first full draw, and redraws after layout settled."""
    app = pilot.app
    for _ in range(300):
        if app._drawn_screen is not None and app.ticks >= 4:
            break
        await pilot.pause(0.02)
    await pilot.pause()


app = build()
