"""A real OpenSSH sshd on loopback for the disk-check tests.

Its own config, host key and user key in a temp dir; the user is the current one (root here),
key authentication only. `sshd_server` is a session fixture: import it into a test module.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.services import (
    free_port,
    port_answers,
    service_missing,
    stop_process,
    wait_for,
)

SSHD = "/usr/sbin/sshd"


@dataclass
class SshServer:
    port: int
    dir: Path
    user: str
    proc: subprocess.Popen | None = None

    @property
    def host_pubkey(self) -> str:
        """ "ssh-ed25519 AAAA..." of the server's host key."""
        return " ".join((self.dir / "host_key.pub").read_text().split()[:2])

    @property
    def user_key(self) -> str:
        return str(self.dir / "user_key")

    def known_hosts(self, name: str, trusted: bool = True) -> str:
        """A known_hosts file (path) holding this server's key, or empty when not trusted."""
        path = self.dir / f"known_hosts-{name}"
        entry = f"[127.0.0.1]:{self.port} {self.host_pubkey}\n" if trusted else ""
        path.write_text(entry)
        return str(path)

    def stop(self) -> None:
        stop_process(self.proc)


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def start_sshd() -> SshServer:
    """Start sshd -D on a free loopback port; the caller stops it."""
    directory = Path(tempfile.mkdtemp(prefix="celerytui-sshd-"))
    _keygen(directory / "host_key")
    _keygen(directory / "user_key")
    shutil.copy(directory / "user_key.pub", directory / "authorized_keys")
    server = SshServer(port=free_port(), dir=directory, user=getpass.getuser())
    (directory / "sshd_config").write_text(
        f"Port {server.port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {directory / 'host_key'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\n"
        f"PidFile {directory / 'sshd.pid'}\n"
        "StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        f"AllowUsers {server.user}\n"
    )
    if os.geteuid() == 0:  # OpenSSH refuses to start without its privilege separation dir
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    log = open(directory / "sshd.log", "wb")  # noqa: SIM115 - lives as long as sshd
    server.proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(directory / "sshd_config")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def up() -> bool:
        if server.proc.poll() is not None:
            raise AssertionError(f"sshd exited: {(directory / 'sshd.log').read_text()[-500:]}")
        return port_answers("127.0.0.1", server.port)

    wait_for(up, 10, what="sshd to listen")
    return server


@pytest.fixture(scope="session")
def sshd_server():
    """A running sshd (skip, or fail in CI, when OpenSSH is not installed)."""
    if not (os.path.exists(SSHD) and shutil.which("ssh-keygen")):
        service_missing("sshd")
    server = start_sshd()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)
