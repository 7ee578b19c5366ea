"""Short-lived work holds the freezer back while it is brief, and not once it has hung."""

from __future__ import annotations

import threading
import time

from celerytui.core import short_lived


def test_work_in_flight_holds_freezes_back_until_it_ends():
    ran: list[str] = []
    with short_lived.short_lived():
        assert short_lived.in_flight()
        assert short_lived.if_quiet(lambda: ran.append("frozen")) is False
    assert not short_lived.in_flight()
    assert short_lived.if_quiet(lambda: ran.append("frozen")) is True
    assert ran == ["frozen"]


def test_work_hung_past_its_limit_no_longer_holds_freezes_back_and_is_listed():
    entered, release = threading.Event(), threading.Event()

    def stuck() -> None:
        with short_lived.short_lived():
            entered.set()
            release.wait(30)

    thread = threading.Thread(target=stuck, name="stuck-poll", daemon=True)
    thread.start()
    try:
        assert entered.wait(10)
        now = time.monotonic()
        assert short_lived.in_flight(now)
        assert _of(thread, short_lived.hung(now)) == []
        later = now + short_lived.HUNG_AFTER + 1
        assert not short_lived.in_flight(later)
        assert [entry.thread.name for entry in _of(thread, short_lived.hung(later))] == [
            "stuck-poll"
        ]
    finally:
        release.set()
        thread.join(10)
    assert _of(thread, short_lived.hung(time.monotonic() + 1000)) == []


def _of(thread: threading.Thread, entries: list) -> list:
    """The entries of ``thread`` (the registry is the process's: a poller an earlier test
    left running may be in flight too)."""
    return [entry for entry in entries if entry.thread is thread]
