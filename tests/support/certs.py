"""Keys and certificates for signed-cluster tests, made in the test with ``cryptography``
(celerytui.signing_keys): a worker's, a monitor's (its key behind a password), and an
outsider's whose certificate is not in the store the cluster trusts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from celerytui.signing_keys import KeyPair, make_key_pair, make_store


@dataclass(frozen=True)
class ClusterKeys:
    worker: KeyPair
    monitor: KeyPair
    outsider: KeyPair
    store: Path  # trusts the worker and the monitor, not the outsider
    outsider_store: Path  # the outsider's own (so it can sign at all)
    password: str  # the monitor key's

    def env(self, who: str) -> dict[str, str]:
        """CELERYTUI_SECURITY_* for ``who`` ("worker", "monitor", "outsider")."""
        pair: KeyPair = getattr(self, who)
        env = {
            "CELERYTUI_SECURITY_KEY": str(pair.key),
            "CELERYTUI_SECURITY_CERTIFICATE": str(pair.certificate),
            "CELERYTUI_SECURITY_CERT_STORE": str(
                self.outsider_store if who == "outsider" else self.store
            ),
        }
        if who == "monitor":
            env["CELERYTUI_SECURITY_KEY_PASSWORD"] = self.password
        return env

    def secrets(self) -> list[str]:
        """What must never be printed or logged: the password and each key's PEM body lines."""
        found = [self.password]
        for pair in (self.worker, self.monitor, self.outsider):
            lines = pair.key.read_text().splitlines()
            found += [line for line in lines[1:-1] if len(line) > 40]
        return found


def make_cluster_keys(directory: Path) -> ClusterKeys:
    password = "pw-" + secrets.token_hex(8)
    worker = make_key_pair(directory, "worker")
    monitor = make_key_pair(directory, "monitor", password=password)
    outsider = make_key_pair(directory, "outsider")
    store = make_store(directory / "trusted", worker, monitor)
    outsider_store = make_store(directory / "outsider-trusted", outsider, worker)
    return ClusterKeys(worker, monitor, outsider, store, outsider_store, password)
