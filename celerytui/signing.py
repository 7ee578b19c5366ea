"""Signed task messages: Celery's ``auth`` serializer, set up the same way on both sides.

A signed cluster's workers take only task (and remote-control) messages signed by a key whose
certificate is in their store: someone who can write to the broker cannot inject tasks. The
signature covers a message's body (args, kwargs, callbacks), not its headers, and nothing is
encrypted: args and results stay readable on the broker and in the result backend.

``configure(app, settings)`` (called by cluster_spec.configure, so by the workers and the
monitor alike) turns signing on when the settings name a key, certificate and store. Celery's
``setup_security`` changes kombu's global serializer registry: it disables every decoder but
the ones it is told to keep, and makes ``auth`` the default serializer of any publish that
names none. We keep JSON decoding enabled (events, results and the fast lane are JSON) and put
the default back to JSON, so only task and control messages - whose serializer the app names -
are signed. ``state_of(app)`` says whether the cluster is signed and whether this process can
sign: the Controller refuses to send anything unsigned to a signed cluster.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from celerytui.config import ConfigError, Settings

if TYPE_CHECKING:  # importing this module loads no broker client (core.events imports it)
    from celery import Celery

DIGEST = "sha256"
# what signing needs, in the order messages name them
NEEDED = ("security_key", "security_certificate", "security_cert_store")


@dataclass(frozen=True, slots=True)
class Signing:
    """Whether a cluster takes only signed task messages, and whether this process signs."""

    signed: bool = False
    can_sign: bool = False
    why: str = ""  # what says the cluster is signed: "security_cert_store is set"
    missing: tuple[str, ...] = ()  # settings this process lacks to sign

    @property
    def refusal(self) -> str | None:
        """One line saying why nothing may be sent, or None when sending is fine."""
        if not self.signed or self.can_sign:
            return None
        return (
            f"this cluster takes only signed task messages ({self.why}) and this monitor "
            f"cannot sign: set {', '.join(self.missing)}; refused, nothing sent"
        )

    @property
    def label(self) -> str:
        """What the header shows: "" (not signed), "signed" or "signed, no key"."""
        if not self.signed:
            return ""
        return "signed" if self.can_sign else "signed, no key"


UNSIGNED = Signing()


def wanted(settings: Settings) -> Signing:
    """What the settings say, before any file is read."""
    named = [key for key in NEEDED if getattr(settings, key)]
    if not named and not settings.signed:
        return UNSIGNED
    why = f"{named[-1]} is set" if named else "signed = true"
    missing = tuple(key for key in NEEDED if not getattr(settings, key))
    return Signing(True, not missing, why, missing)


def configure(app: Celery, settings: Settings, *, worker: bool = False) -> Signing:
    """Sign and verify ``app``'s task messages when the settings say so; remember the answer
    on the app (``state_of``). A worker must be able to sign (it verifies with the store and
    signs its control replies and the tasks it sends): it stops with a ConfigError instead of
    quietly taking unsigned messages. A monitor without a key stays on JSON and only watches."""
    state = wanted(settings)
    if state.signed and not state.can_sign and worker:
        raise ConfigError(
            f"a signed cluster's worker needs {', '.join(NEEDED)} (missing: "
            f"{', '.join(state.missing)}; from {state.why})"
        )
    if state.can_sign:
        _setup(app, settings)
    app.celerytui_signing = state
    return state


def adopt(app: Celery, settings: Settings) -> Signing:
    """For a user's own app (-A proj): our settings, when they name signing, else what the
    app's configuration says (task_serializer "auth": signed; a security_key: it can sign)."""
    if wanted(settings).signed:
        return configure(app, settings)
    if app.conf.task_serializer != "auth":
        state = UNSIGNED
    elif app.conf.security_key:
        state = Signing(True, True, "the app's task_serializer is auth")
    else:
        state = Signing(True, False, "the app's task_serializer is auth", ("security_key",))
    app.celerytui_signing = state
    return state


def state_of(app: Celery | None) -> Signing:
    """What ``configure`` or ``adopt`` decided for ``app``; an app neither saw: unsigned."""
    state = getattr(app, "celerytui_signing", None)
    return state if isinstance(state, Signing) else UNSIGNED


def _setup(app: Celery, settings: Settings) -> None:
    store = str(settings.security_cert_store)
    pattern = os.path.join(store, "*") if os.path.isdir(store) else store
    if not glob.glob(pattern):  # Celery would load an empty store and refuse everything
        raise ConfigError(f"signing: security_cert_store {store} holds no certificate")
    app.conf.update(
        task_serializer="auth",
        accept_content=["auth"],
        result_accept_content=["json"],  # results stay JSON; the backend decodes them so
        event_serializer="json",  # and so do events: watching needs no key
        security_key=settings.security_key,
        security_key_password=settings.security_key_password,
        security_certificate=settings.security_certificate,
        security_cert_store=settings.security_cert_store,
        security_digest=DIGEST,
    )
    try:
        # keep JSON (and the signed content type) decodable by anything that names no accept
        app.setup_security(allowed_serializers=["json", "application/data"], digest=DIGEST)
    except OSError as exc:
        raise ConfigError(f"signing: cannot read {exc.filename}: {exc.strerror}") from None
    except Exception as exc:  # a bad key, password or certificate: say which, never the secret
        raise ConfigError(f"signing: {_reason(exc, settings)}") from None
    _json_by_default()


def _json_by_default() -> None:
    """Undo setup_security's global default: a publish that names no serializer (kombu's
    Producer default, anyone else's app in this process) gets JSON, not a signature attempt."""
    from kombu.serialization import registry

    registry._set_default_serializer("json")


def _reason(exc: Exception, settings: Settings) -> str:
    from celerytui.redaction import one_line

    secrets: list[Any] = [settings.security_key_password] if settings.security_key_password else []
    text = one_line(exc, with_type=False, secrets=secrets)
    if "private key" in text.lower() or "password" in text.lower():
        return f"cannot load the key {settings.security_key} (wrong password, or not an RSA key)"
    if "certificate" in text.lower():
        files = f"{settings.security_certificate}, {settings.security_cert_store}"
        return f"bad certificate ({text}); files: {files}"
    return text
