"""Read-only mode: every call that would change the cluster is refused before the broker is
touched; ping and inspect stay allowed."""

from __future__ import annotations

import time

import pytest
from celery import Celery

from celerytui.core.control import (
    ControlError,
    Controller,
    ReadOnlyError,
    mutating_methods,
)
from tests.support.services import free_port

# Every mutating method with arguments a user could give it.
CALLS = {
    "revoke": ("5b3bf55c-8de8-4a85-babc-a53299793c37",),
    "terminate": ("5b3bf55c-8de8-4a85-babc-a53299793c37",),
    "revoke_many": (["5b3bf55c-8de8-4a85-babc-a53299793c37", "0c1d"], True),
    "rate_limit": ("celerytui.tasks.send_email", "10/m"),
    "time_limit": ("celerytui.tasks.send_email", 5, 10),
    "pool_grow": ("w1@host", 1),
    "pool_shrink": ("w1@host", 1),
    "autoscale": ("w1@host", 4, 1),
    "add_consumer": ("w1@host", "http"),
    "cancel_consumer": ("w1@host", "http"),
    "shutdown": ("w1@host",),
    "pool_restart": ("w1@host",),
    "enable_events": (),
    "disable_events": (),
    "purge": ("celery",),
    "send_task": ("celerytui.tasks.send_email", ["a@example.com", "hi"]),
    "fire_http": ("http://example.com/",),
    "fire_disk": ("local",),
    "fire_order": (1001,),
    "fire_email": ("a@example.com", "hello"),
}


@pytest.fixture
def spied_app():
    """An app on a closed port whose every way to reach the broker is counted."""
    app = Celery(
        "ro",
        broker=f"redis://:hunter2@127.0.0.1:{free_port()}/0",
        backend=f"redis://127.0.0.1:{free_port()}/1",
        set_as_current=False,
    )
    touched: list[str] = []
    for attr in (
        "connection_for_write",
        "connection_for_read",
        "connection",
        "producer_or_acquire",
        "connection_or_acquire",
        "send_task",
    ):
        real = getattr(app, attr)

        def spy(*args, _real=real, _attr=attr, **kwargs):
            touched.append(_attr)
            return _real(*args, **kwargs)

        setattr(app, attr, spy)
    app.touched = touched
    yield app
    app.close()


def test_the_table_covers_every_mutating_method():
    assert sorted(CALLS) == mutating_methods()


@pytest.mark.parametrize("method", sorted(CALLS))
def test_read_only_refuses_and_sends_nothing(spied_app, method):
    ctl = Controller(spied_app, read_only=True, timeout=0.5)
    with pytest.raises(ReadOnlyError) as info:
        getattr(ctl, method)(*CALLS[method])
    message = str(info.value)
    assert "read-only" in message and method in message
    assert "\n" not in message
    assert spied_app.touched == []  # no connection was even opened


def test_read_only_still_pings_and_inspects(spied_app):
    """ping and inspect are allowed: they reach for the broker (here: a closed port, so a
    clear error, quickly, with the password masked)."""
    ctl = Controller(spied_app, read_only=True, timeout=0.5)
    for call in (ctl.ping, lambda: ctl.inspect("stats")):
        started = time.monotonic()
        with pytest.raises(ControlError) as info:
            call()
        assert not isinstance(info.value, ReadOnlyError)
        assert time.monotonic() - started < 2.5
        assert "broker unreachable" in str(info.value)
        assert "hunter2" not in str(info.value)
    assert spied_app.touched


def test_bad_task_arguments_get_a_one_line_error(spied_app):
    ctl = Controller(spied_app, timeout=0.5)
    with pytest.raises(ControlError, match="args must be a JSON list"):
        ctl.send_task("celerytui.tasks.send_email", "not a list")
    with pytest.raises(ControlError, match="kwargs must be a JSON object"):
        ctl.send_task("celerytui.tasks.send_email", [], ["x"])
    with pytest.raises(ControlError, match="not JSON"):
        ctl.send_task("celerytui.tasks.send_email", [object()])
    with pytest.raises(ControlError, match="task name"):
        ctl.send_task("", [])
    with pytest.raises(ControlError, match="unknown inspect method"):
        ctl.inspect("drop_tables")
    assert spied_app.touched == []  # refused before any connection
