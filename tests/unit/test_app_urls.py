"""pin_urls: a Celery app uses the URLs celerytui chose, whatever Celery's env vars say."""

from __future__ import annotations

import pytest
from celery import Celery

from celerytui.config import load_settings
from celerytui.core.app_urls import pin_urls
from celerytui.tasks import make_celery_app

A, A_BACKEND = "redis://cluster-a:6379/0", "redis://cluster-a:6379/1"
B, B_BACKEND = "redis://cluster-b:6379/0", "redis://cluster-b:6379/1"


@pytest.fixture(autouse=True)
def env_names_a(monkeypatch):
    for name in ("CELERY_BROKER_URL", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL"):
        monkeypatch.setenv(name, A)
    monkeypatch.setenv("CELERY_RESULT_BACKEND", A_BACKEND)


def _hosts(app: Celery) -> set[str]:
    """The hosts every reader of the app's configuration would connect to."""
    return {
        app.connection_for_read().hostname,
        app.connection_for_write().hostname,
        app.backend.connparams["host"],
    }


def test_a_plain_celery_app_follows_the_environment():  # what pin_urls is there to undo
    app = Celery("plain", broker=B, backend=B_BACKEND, set_as_current=False)
    assert _hosts(app) == {"cluster-a"}


def test_pinned_urls_beat_every_celery_env_var():
    app = pin_urls(Celery("user", broker=A, set_as_current=False), B, B_BACKEND)
    assert (
        app.conf.broker_url,
        app.conf.broker_read_url,
        app.conf.broker_write_url,
        app.conf.result_backend,
    ) == (B, B, B, B_BACKEND)
    assert _hosts(app) == {"cluster-b"}


def test_what_is_not_pinned_keeps_celerys_rules():
    app = pin_urls(Celery("user", broker=B, set_as_current=False), result_backend=B_BACKEND)
    assert app.conf.broker_url == A and app.conf.result_backend == B_BACKEND
    pin_urls(app, broker_url=B)  # a second pin adds to the first
    assert _hosts(app) == {"cluster-b"}


def test_a_pin_holds_whether_the_configuration_was_loaded_before_or_after():
    loaded = Celery("loaded", set_as_current=False)
    assert loaded.conf.broker_url == A  # configuration read
    pin_urls(loaded, B)
    lazy = pin_urls(Celery("lazy", set_as_current=False), B)
    lazy.conf.update(task_default_queue="celery")
    assert loaded.conf.broker_url == lazy.conf.broker_url == B
    assert lazy.conf.copy().broker_url == B


def test_celerytuis_own_apps_use_their_settings():
    app = make_celery_app(load_settings(env={}, broker_url=B, result_backend=B_BACKEND))
    assert _hosts(app) == {"cluster-b"}
