"""Disk checks against a real OpenSSH sshd on loopback, and on `local`."""

from __future__ import annotations

import json
import subprocess

import pytest

from celerytui.checks import DISK_CHECK_TASK, probe_disk
from celerytui.config import DiskHost
from tests.support import sshd

sshd_server = sshd.sshd_server  # the session fixture, made visible to this module

pytestmark = pytest.mark.sshd


def local_df_root() -> tuple[int, int]:
    """(size, used) bytes of / as this machine's df reports them."""
    fields = (
        subprocess.run(["df", "-P", "-B1", "/"], capture_output=True, text=True, check=True)
        .stdout.splitlines()[1]
        .split()
    )
    return int(fields[1]), int(fields[2])


def ssh_host(server, name: str = "box", **overrides) -> DiskHost:
    options = {
        "host": "127.0.0.1",
        "port": server.port,
        "user": server.user,
        "key_file": server.user_key,
        "known_hosts": server.known_hosts(name),
        "timeout": 5.0,
    }
    options.update(overrides)
    return DiskHost(name=name, **options)


def assert_matches_local_df(result: dict) -> None:
    size, used = local_df_root()
    assert result["status"] == "OK", result
    assert result["mount"] == "/"
    assert result["size_bytes"] == size
    assert abs(result["used_bytes"] - used) < 256 * 1024**2  # other writers on the disk
    assert 0 <= result["use_percent"] <= 100


def test_ssh_disk_check_matches_local_df(sshd_server):
    result = probe_disk([ssh_host(sshd_server)], "box")
    assert result["host"] == "box"
    assert_matches_local_df(result)


def test_local_host_runs_df_without_ssh():
    assert_matches_local_df(probe_disk([], "local"))


def test_path_is_quoted_not_run_by_the_shell(sshd_server, tmp_path):
    marker = tmp_path / "pwned"
    result = probe_disk([ssh_host(sshd_server)], "box", f"/; touch {marker}")
    assert result["status"] == "ERROR"
    assert not marker.exists()


def test_unknown_host_key_is_rejected_with_a_clear_error(sshd_server):
    host = ssh_host(sshd_server, known_hosts=sshd_server.known_hosts("empty", trusted=False))
    result = probe_disk([host], "box")
    assert result["status"] == "ERROR"
    assert result["error"].startswith(f"unknown host key for 127.0.0.1:{sshd_server.port}")
    assert "accept_unknown_host_key" in result["error"]
    assert result["size_bytes"] is None


def test_unknown_host_key_accepted_when_the_host_config_says_so(sshd_server):
    empty = sshd_server.known_hosts("empty-accept", trusted=False)
    host = ssh_host(sshd_server, known_hosts=empty, accept_unknown_host_key=True)
    assert_matches_local_df(probe_disk([host], "box"))
    with open(empty) as fh:
        assert fh.read() == ""  # accepted for this connection only, not written down


def test_changed_host_key_is_refused(sshd_server, tmp_path):
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    known = tmp_path / "known_hosts"
    pub = " ".join((tmp_path / "other.pub").read_text().split()[:2])
    known.write_text(f"[127.0.0.1]:{sshd_server.port} {pub}\n")
    result = probe_disk([ssh_host(sshd_server, known_hosts=str(known))], "box")
    assert result["status"] == "ERROR"
    assert "does not match" in result["error"]


def test_bad_auth_gives_error_status(sshd_server, tmp_path):
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    result = probe_disk([ssh_host(sshd_server, key_file=str(stranger))], "box")
    assert result == {
        **result,
        "status": "ERROR",
        "error": f"SSH authentication failed for {sshd_server.user}@127.0.0.1:{sshd_server.port}",
    }


def test_unknown_host_name_and_closed_port(sshd_server):
    assert probe_disk([], "server01")["error"] == (
        "unknown disk host 'server01' (configured: local)"
    )
    closed = probe_disk([ssh_host(sshd_server, port=1)], "box")
    assert closed["status"] == "ERROR"
    assert closed["error"] == "cannot connect to 127.0.0.1:1: Connection refused"


def test_disk_check_task_on_a_worker(sshd_server, celery_app, start_worker):
    hosts = [
        {
            "name": "box",
            "host": "127.0.0.1",
            "port": sshd_server.port,
            "user": sshd_server.user,
            "key_file": sshd_server.user_key,
            "known_hosts": sshd_server.known_hosts("worker"),
        },
        {
            "name": "stranger",
            "host": "127.0.0.1",
            "port": sshd_server.port,
            "user": sshd_server.user,
            "key_file": sshd_server.user_key,
            "known_hosts": sshd_server.known_hosts("worker-empty", trusted=False),
        },
    ]
    start_worker("disk", queues="disk", extra_env={"CELERYTUI_DISK_HOSTS": json.dumps(hosts)})
    task = celery_app.tasks[DISK_CHECK_TASK]
    ok, rejected = task.delay("box"), task.delay("stranger")
    assert_matches_local_df(ok.get(timeout=20))
    assert celery_app.backend.get_task_meta(ok.id)["queue"] == "disk"
    rejected_result = rejected.get(timeout=20)
    assert rejected_result["status"] == "ERROR"
    assert "unknown host key" in rejected_result["error"]
