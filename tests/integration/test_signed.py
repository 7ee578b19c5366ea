"""A signed cluster end to end, on real workers: signed `fire --wait` works, a plain JSON
message and one signed by a certificate outside the store are refused and never run, a
monitor without a key watches and refuses to fire, and no key or password is ever printed.

Every signing process here is a subprocess: Celery's setup_security changes kombu's global
serializer registry, and the test session must keep its own untouched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid

import pytest
import redis

from tests.support.certs import ClusterKeys, make_cluster_keys
from tests.support.commands import LineReader, celerytui, command_env, start_celerytui
from tests.support.services import wait_for

EMAIL = "celerytui.tasks.send_email"


@pytest.fixture
def keys(tmp_path) -> ClusterKeys:
    return make_cluster_keys(tmp_path / "keys")


@pytest.fixture
def signed_worker(start_worker, keys):
    """A worker that takes only messages signed by a certificate in its store."""
    worker = start_worker("signed", wait=False, extra_env=keys.env("worker"))
    wait_for(
        lambda: worker.proc.poll() is not None or " ready." in worker.log_tail(200),
        timeout=40,
        interval=0.2,
        what="the signed worker to be ready",
    )
    assert worker.proc.poll() is None, worker.log_tail()
    return worker


def _publish_raw(broker: str, name: str, body: str) -> str:
    """A task message for ``name`` with content type application/text; returns its id."""
    from kombu import Connection

    task_id = str(uuid.uuid4())
    headers = {"task": name, "id": task_id, "lang": "py", "root_id": task_id, "retries": 0}
    with Connection(broker) as conn:
        conn.Producer().publish(
            body,
            exchange="",
            routing_key="celery",
            content_type="application/text",
            content_encoding="utf-8",
            headers=headers,
        )
    return task_id


class Tail:
    """`celerytui tail --json` in the background, its NDJSON lines parsed."""

    def __init__(self, cluster: list[str], env: dict[str, str]) -> None:
        self.proc = start_celerytui("tail", "--json", *cluster, env=env)
        self.out, self.err = LineReader(self.proc.stdout), LineReader(self.proc.stderr)
        self.err.wait_for(lambda line: "following" in line, timeout=30, what="tail to follow")

    def wait_event(self, task_id: str, event: str, timeout: float = 30.0) -> dict:
        line = self.out.wait_for(
            lambda line: f'"{task_id}"' in line and f'"event": "{event}"' in line,
            timeout=timeout,
            what=f"{event} of {task_id}",
        )
        return json.loads(line)

    def stop(self) -> str:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        return "\n".join(self.out.lines + self.err.lines)


def test_signed_cluster_end_to_end(redis_urls, keys, signed_worker, celery_app):
    broker, backend = redis_urls
    cluster = ["-b", broker, "--result-backend", backend]
    signer_env = command_env(**keys.env("monitor"))
    outputs: list[str] = []

    def run(*args: str, env: dict[str, str], timeout: float = 40) -> subprocess.CompletedProcess:
        done = celerytui(*args, *cluster, env=env, timeout=timeout)
        outputs.extend((done.stdout, done.stderr))
        return done

    keyless = Tail(cluster, command_env(CELERYTUI_SIGNED="yes"))
    signer = Tail(cluster, signer_env)
    try:
        # signed fire --wait: the worker verifies, runs it, and the result comes back (the
        # signing process still decodes JSON results)
        fired = run("fire", "email", "ops@example.com", "signed hello", "--wait", env=signer_env)
        assert fired.returncode == 0, fired.stderr
        task_id, result = fired.stdout.splitlines()
        assert json.loads(result) == "Email to ops@example.com sent: signed hello..."
        # the critical queue: a signed task routed to `secure` runs there too
        secure = run(
            "fire",
            "task",
            "celerytui.tasks.risky_operation",
            "--kwargs",
            '{"fail_times": 0}',
            "--queue",
            "secure",
            "--wait",
            env=signer_env,
        )
        assert secure.returncode == 0, secure.stderr
        assert json.loads(secure.stdout.splitlines()[1]) == {"attempts": 1, "retries": 0}

        # both monitors watch the signed cluster: events stay JSON, with or without a key
        for tail in (keyless, signer):
            done = tail.wait_event(task_id, "task-succeeded")
            assert done["state"] == "SUCCESS" and done["name"] == EMAIL
            assert done["worker"] == signed_worker.hostname

        # a plain JSON message (what anyone who can write to the broker could send) is
        # refused and never runs: no result, and the worker says why
        plain = celery_app.send_task(EMAIL, args=["x@example.com", "unsigned"], queue="celery")
        refused = keyless.wait_event(plain.id, "task-rejected")
        assert refused["state"] == "REJECTED" and refused["name"] == EMAIL
        assert "not signed" in refused["exception"]
        assert "ContentDisallowed" in refused["exception"]
        # a raw content type, which kombu lets past any accept list: stock Celery's worker
        # dies on it ("Unrecoverable error"); ours refuses it and lives on
        raw_id = _publish_raw(broker, EMAIL, '[["x@example.com", "raw"], {}, {}]')
        raw = keyless.wait_event(raw_id, "task-rejected")
        assert "untrusted content of type application/text" in raw["exception"]
        # a signed task sent after both has run by now; they still have no result
        after = run("fire", "email", "ops@example.com", "after", "--wait", env=signer_env)
        assert after.returncode == 0, after.stderr
        assert celery_app.AsyncResult(plain.id).state == "PENDING"
        assert celery_app.AsyncResult(raw_id).state == "PENDING"
        assert signed_worker.proc.poll() is None
        log = signed_worker.log_tail(400)
        assert "Received invalid task message: Refusing to deserialize untrusted content" in log

        # a message signed by a key whose certificate is not in the worker's store: refused
        outsider = run(
            "fire",
            "email",
            "ops@example.com",
            "outsider",
            "--wait",
            "--timeout",
            "4",
            env=command_env(**keys.env("outsider")),
        )
        assert outsider.returncode == 2
        outsider_id = outsider.stdout.splitlines()[0]
        assert f"task {outsider_id} has no result after 4s (state PENDING)" in outsider.stderr
        rejected = keyless.wait_event(outsider_id, "task-rejected")
        assert "signature refused" in rejected["exception"]
        assert "Unknown certificate" in rejected["exception"]
        assert "Unknown certificate" in signed_worker.log_tail(400)

        # a monitor without a key refuses to fire, with one line, before sending anything
        r = redis.Redis.from_url(broker)
        for args in (
            ("email", "ops@example.com", "no key"),
            ("task", EMAIL, "--args", '["a@example.com", "b"]'),
            ("order", "1001"),
        ):
            nokey = run("fire", *args, env=command_env(CELERYTUI_SIGNED="yes"))
            assert nokey.returncode == 2
            assert nokey.stdout == ""  # no task id: nothing was sent
            assert nokey.stderr.splitlines() == [
                "Error: this cluster takes only signed task messages (signed = true) and this "
                "monitor cannot sign: set security_key, security_certificate, "
                "security_cert_store; refused, nothing sent"
            ]
        assert r.llen("celery") == 0
        # status without a key: the workers as their heartbeats say, no ping sent; with the
        # key: ping and inspect, signed, answered
        looked = run("status", "--json", "--listen", "4.5", env=command_env(CELERYTUI_SIGNED="1"))
        report = json.loads(looked.stdout)
        assert report["signing"] == "signed, no key"
        assert [(w["hostname"], w["ok"]) for w in report["workers"]] == [
            (signed_worker.hostname, True)
        ]
        asked = json.loads(run("status", "--json", "--listen", "0", env=signer_env).stdout)
        assert asked["signing"] == "signed" and asked["exit_code"] == 0
        assert [(w["hostname"], w["pool"]) for w in asked["workers"]] == [
            (signed_worker.hostname, "prefork")
        ]
        # a monitor with a certificate but no key knows the cluster is signed from it
        half = run(
            "fire",
            "email",
            "a@example.com",
            "b",
            env=command_env(CELERYTUI_SECURITY_CERT_STORE=str(keys.store)),
        )
        assert half.returncode == 2 and half.stdout == ""
        assert "(security_cert_store is set)" in half.stderr
        assert "set security_key, security_certificate;" in half.stderr

        # a wrong password: one line naming the key file, never the password
        wrong = run(
            "fire",
            "email",
            "a@example.com",
            "b",
            env={**signer_env, "CELERYTUI_SECURITY_KEY_PASSWORD": "not-" + keys.password},
        )
        assert wrong.returncode == 2 and wrong.stdout == ""
        assert wrong.stderr.strip() == (
            f"Error: signing: cannot load the key {keys.monitor.key} "
            "(wrong password, or not an RSA key)"
        )
        # `config` shows where the signing settings came from, the password masked
        shown = run("config", env=signer_env)
        assert shown.returncode == 0, shown.stderr
        assert any(
            line.split()[:3] == ["security_key_password", "****", "env"]
            for line in shown.stdout.splitlines()
        ), shown.stdout
    finally:
        outputs += [keyless.stop(), signer.stop()]
    # the key-less tail saw the signed tasks as well as the signer's did
    assert sum('"event": "task-succeeded"' in line for line in keyless.out.lines) >= 3

    # the key-less monitor sent the workers nothing they had to drop (no enable_events)
    assert "Can't decode message body: ContentDisallowed" not in signed_worker.log_tail(5000)
    # no key, no password, anywhere: command output, the tails, the worker's log
    everything = "\n".join([*outputs, signed_worker.log_tail(5000)])
    for secret in keys.secrets():
        assert secret not in everything


def test_a_key_others_can_read_is_warned_about(keys, redis_urls):
    broker = redis_urls[0]
    env = command_env(**keys.env("worker"))
    keys.worker.key.chmod(0o644)
    shown = celerytui("config", "-b", broker, env=env)
    assert shown.returncode == 0
    path = keys.worker.key
    assert shown.stderr.splitlines() == [
        f"Warning: {path} is a signing key and other users can read it; run: chmod 600 {path}"
    ]
    keys.worker.key.chmod(0o600)
    assert celerytui("config", "-b", broker, env=env).stderr == ""


def test_demo_signed_runs_the_whole_system_signed_and_cleans_up():
    import re

    from tests.integration.test_demo import READY, DemoProcess, assert_cleaned_up

    demo = DemoProcess("--signed", "--headless", "--duration", "4", "--json", "--seed", "3")
    try:
        code, out, err = demo.finish(timeout=80)
    finally:
        demo.kill()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["signing"] == "signed"
    # the workload, beat and the monitor's inspect all signed: workers ran them, refused none
    assert summary["events"]["succeeded"] > 0, summary
    assert summary["tasks_by_state"]["REJECTED"] == 0
    assert all(status == "online" for status in summary["workers"].values())
    ready = re.search(READY, err)
    assert ready, err
    # the throwaway key lived in the temp dir, which is gone with everything else
    assert_cleaned_up(summary["log_dir"], summary["pids"], int(ready.group(1)))
