"""Broker lost -> a banner "broker unreachable, retrying"; broker back -> it clears. The app
keeps running (and answering keys) throughout."""

from __future__ import annotations

import pytest

from celerytui.app import make_app
from celerytui.config import load_settings
from tests.support.services import RedisServer, service_missing
from tests.ui.conftest import wait_until
from tests.ui.screen_text import screen_text

pytestmark = pytest.mark.redis

BANNER = "broker unreachable, retrying"


@pytest.fixture
def own_redis():
    """A redis-server this test stops and restarts on the same port."""
    try:
        server = RedisServer().start()
    except (ImportError, AssertionError, OSError) as exc:
        service_missing(f"embedded redis-server ({exc})")
    yield server
    server.cleanup()


async def test_banner_appears_when_the_broker_goes_and_clears_when_it_returns(own_redis):
    port = own_redis.port
    settings = load_settings(
        broker_url=f"redis://127.0.0.1:{port}/0", result_backend=f"redis://127.0.0.1:{port}/1"
    )
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "● connected" in screen_text(app), what="connected")
        assert BANNER not in screen_text(app)

        own_redis.stop()
        await wait_until(
            pilot, lambda: BANNER in screen_text(app), timeout=20, what="the broker-down banner"
        )
        assert "○ reconnecting" in screen_text(app).splitlines()[0]
        await pilot.press("p")  # still answering keys
        await wait_until(pilot, lambda: "paused" in screen_text(app), what="pause while down")
        await pilot.press("p")

        restarted = RedisServer(port=port).start()
        try:
            await wait_until(
                pilot,
                lambda: BANNER not in screen_text(app) and "● connected" in screen_text(app),
                timeout=30,
                what="the banner to clear after the broker came back",
            )
        finally:
            restarted.cleanup()
