"""Throwaway signing keys for ``celerytui demo --signed`` (and the tests): an RSA key, its
self-signed certificate, and a store directory of trusted certificates, made with the
``cryptography`` package. Fine for a demo; a real cluster's keys come from its own PKI.
"""

from __future__ import annotations

import datetime
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class KeyPair:
    key: Path  # PEM private key, mode 0600
    certificate: Path  # PEM certificate


def make_key_pair(
    directory: Path, name: str, *, password: str | None = None, days: int = 2
) -> KeyPair:
    """A new RSA key (encrypted with ``password`` when given) and a self-signed certificate
    for it, written to ``directory/<name>.key`` and ``<name>.crt``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"celerytui {name}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(secrets.token_bytes(8), "big") | 1)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return KeyPair(key_path, cert_path)


def make_store(directory: Path, *pairs: KeyPair) -> Path:
    """A certificate store: a directory holding a copy of each pair's certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    for pair in pairs:
        (directory / pair.certificate.name).write_bytes(pair.certificate.read_bytes())
    return directory
