"""`--context` on the headless commands and `celerytui contexts`, against two real clusters:
context a on the session's Redis, context b on a redis-server that wants a password, each
with its own worker."""

from __future__ import annotations

import json

import pytest
import redis

from celerytui.config import load_settings
from celerytui.tasks import make_celery_app
from tests.support.commands import celerytui, command_env
from tests.support.services import RedisServer, service_missing
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.redis
SECRET = "Ctx7Secret"


@pytest.fixture(scope="module")
def two_clusters(redis_target, tmp_path_factory):
    """(config path, a's broker, b's broker, b's port) with a worker wa on a and wb on b."""
    try:
        guarded = RedisServer().start()
    except (ImportError, AssertionError, OSError) as exc:
        service_missing(f"embedded redis-server ({exc})")
    redis.Redis(port=guarded.port).config_set("requirepass", SECRET)
    home = tmp_path_factory.mktemp("contexts")
    a_broker, a_backend = (redis_target.url(db) for db in redis_target.fresh_dbs(2))
    b_broker = f"redis://:{SECRET}@127.0.0.1:{guarded.port}/0"
    b_backend = f"redis://:{SECRET}@127.0.0.1:{guarded.port}/1"
    config = home / "config.toml"
    config.write_text(
        f'current_context = "a"\n'
        f'[contexts.a]\nbroker_url = "{a_broker}"\nresult_backend = "{a_backend}"\n'
        f'[contexts.b]\nbroker_url = "{b_broker}"\nresult_backend = "{b_backend}"\n'
        "read_only = true\n"
    )
    config.chmod(0o600)
    workers = []
    try:
        for name, broker, backend in (("wa", a_broker, a_backend), ("wb", b_broker, b_backend)):
            client = make_celery_app(load_settings(broker_url=broker, result_backend=backend))
            worker = WorkerProcess(broker, backend, home, name=name, queues="celery")
            workers.append(worker)
            worker.start(client)
            client.close()
        yield str(config), a_broker, b_broker, guarded.port
    finally:
        for worker in workers:
            worker.stop()
        guarded.cleanup()


def test_status_with_context_b_reports_b_and_never_its_password(two_clusters):
    config, _a_broker, _b_broker, port = two_clusters
    done = celerytui("--config", config, "status", "--context", "b", "--json", "--listen", "1")
    assert SECRET not in done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["broker"]["url"] == f"redis://:****@127.0.0.1:{port}/0"
    assert report["broker"]["reachable"] is True
    assert [w["hostname"] for w in report["workers"]] == ["wb@celerytui-test"]

    by_env = celerytui(
        "--config", config, "status", "--json", "--listen", "1",
        env=command_env(CELERYTUI_CONTEXT="a"),
    )  # fmt: skip
    assert [w["hostname"] for w in json.loads(by_env.stdout)["workers"]] == ["wa@celerytui-test"]


def test_contexts_lists_both_marks_the_current_and_masks_passwords(two_clusters):
    config, a_broker, _b_broker, port = two_clusters
    listed = celerytui("--config", config, "contexts")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("* a ") and a_broker in lines[0]
    assert lines[1].startswith("  b ") and lines[1].endswith("read-only")
    assert f"redis://:****@127.0.0.1:{port}/0" in lines[1]

    chosen = celerytui("contexts", "--json", "--config", config, "--context", "b")
    as_json = json.loads(chosen.stdout)
    assert as_json["current"] == "b"
    assert [(c["name"], c["current"], c["read_only"]) for c in as_json["contexts"]] == [
        ("a", False, False),
        ("b", True, True),
    ]
    assert as_json["contexts"][1]["result_backend"] == f"redis://:****@127.0.0.1:{port}/1"
    assert SECRET not in listed.stdout + json.dumps(as_json)


def test_an_unknown_context_is_one_error_line_on_every_command(two_clusters):
    config = two_clusters[0]
    for args in (["status"], ["tail"], ["fire", "email", "a@b", "x"], ["contexts"], ["config"]):
        done = celerytui("--config", config, "--context", "qa", *args, timeout=20)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.strip() == (
            "Error: unknown context 'qa' (from flag --context); known: a, b"
        )
        assert done.stdout == ""


def test_fire_refuses_a_read_only_context(two_clusters):
    config = two_clusters[0]
    done = celerytui("--config", config, "fire", "--context", "b", "email", "a@b", "hi")
    assert done.returncode == 2
    assert "read-only" in done.stderr and SECRET not in done.stderr
