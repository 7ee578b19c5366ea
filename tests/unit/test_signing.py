"""Signing settings and what they decide: whether a cluster is signed, whether this process can
sign, the one-line refusal, the password never shown, a refused message on the Failures list,
and a signing monitor process that still decodes JSON like any other.

setup_security changes kombu's global registry, so the one check that sets signing up runs in
a subprocess: this test session's registry stays untouched.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from celerytui import signing
from celerytui.cli import settings_rows
from celerytui.config import ConfigError, ConfigWarning, load_settings
from celerytui.core.model import REJECTED
from celerytui.core.state import ClusterState
from tests.support.cluster_events import T0, FakeClock, sent, task_event
from tests.support.commands import ROOT


def test_what_the_settings_say_about_signing(tmp_path):
    assert signing.wanted(load_settings(env={})) == signing.UNSIGNED
    assert signing.UNSIGNED.refusal is None and signing.UNSIGNED.label == ""
    flagged = signing.wanted(load_settings(env={}, signed=True))
    assert (flagged.signed, flagged.can_sign, flagged.label) == (True, False, "signed, no key")
    assert flagged.refusal == (
        "this cluster takes only signed task messages (signed = true) and this monitor cannot "
        "sign: set security_key, security_certificate, security_cert_store; refused, nothing sent"
    )
    store_only = signing.wanted(load_settings(env={"CELERYTUI_SECURITY_CERT_STORE": "/etc/ca"}))
    assert store_only.why == "security_cert_store is set"
    assert store_only.missing == ("security_key", "security_certificate")
    full = signing.wanted(
        load_settings(
            env={},
            security_key="/k.pem",
            security_certificate="/c.pem",
            security_cert_store="/store",
        )
    )
    assert (full.signed, full.can_sign, full.refusal, full.label) == (True, True, None, "signed")


def test_a_worker_without_a_key_stops_instead_of_taking_unsigned_messages():
    from celery import Celery

    app = Celery("w", set_as_current=False)
    with pytest.raises(ConfigError) as caught:
        signing.configure(app, load_settings(env={}, signed=True), worker=True)
    assert str(caught.value) == (
        "a signed cluster's worker needs security_key, security_certificate, "
        "security_cert_store (missing: security_key, security_certificate, "
        "security_cert_store; from signed = true)"
    )
    # a monitor without a key keeps JSON and only watches; nothing global was touched
    assert signing.configure(app, load_settings(env={}, signed=True)).label == "signed, no key"
    assert app.conf.task_serializer == "json"
    assert signing.state_of(app).refusal is not None


def test_signing_settings_from_file_env_and_flag_and_the_password_never_shown(tmp_path):
    key = tmp_path / "k.pem"
    key.write_text("not really a key")
    key.chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text(f'security_key = "{key}"\nsecurity_key_password = "hunter2-s3cret"\n')
    config.chmod(0o600)
    settings = load_settings(
        config_path=str(config),
        env={"CELERYTUI_SECURITY_CERTIFICATE": "~/c.pem"},
        security_cert_store="/etc/trusted",
    )
    assert settings.security_key == str(key)
    assert settings.source_of("security_key_password") == str(config)
    assert settings.source_of("security_certificate") == "env CELERYTUI_SECURITY_CERTIFICATE"
    assert (
        settings.security_certificate.endswith("/c.pem")
        and "~" not in settings.security_certificate
    )
    assert settings.source_of("security_cert_store") == "flag --security-cert-store"
    assert "hunter2" not in repr(settings)
    rows = {key: value for key, value, _ in settings_rows(settings)}
    assert rows["security_key_password"] == "****"
    # a file holding the key's password that others can read: the config-file warning
    config.chmod(0o644)
    with pytest.warns(ConfigWarning, match="holds a password and other users can read it"):
        load_settings(config_path=str(config), env={})


def test_a_signing_key_others_can_read_warns_once(tmp_path):
    key = tmp_path / "k.pem"
    key.write_text("x")
    key.chmod(0o640)
    with pytest.warns(ConfigWarning) as caught:
        load_settings(env={"CELERYTUI_SECURITY_KEY": str(key)})
    assert [str(w.message) for w in caught] == [
        f"{key} is a signing key and other users can read it; run: chmod 600 {key}"
    ]
    key.chmod(0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigWarning)
        load_settings(env={"CELERYTUI_SECURITY_KEY": str(key)})


def test_an_empty_or_missing_store_is_one_line_before_celery_reads_anything(tmp_path):
    from celery import Celery

    (tmp_path / "empty").mkdir()
    for store in (tmp_path / "empty", tmp_path / "missing"):
        settings = load_settings(
            env={},
            security_key=str(tmp_path / "k.pem"),
            security_certificate=str(tmp_path / "c.pem"),
            security_cert_store=str(store),
        )
        with pytest.raises(ConfigError) as caught:
            signing.configure(Celery("m", set_as_current=False), settings)
        assert str(caught.value) == f"signing: security_cert_store {store} holds no certificate"


def test_bad_signing_values_are_one_line_without_the_value():
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"CELERYTUI_SECURITY_KEY_PASSWORD": ""}, signed="maybe")
    assert str(caught.value) == (
        "signed: expected a boolean (true/false, yes/no, 1/0), got 'maybe' (from flag --signed)"
    )


def test_a_refused_message_is_rejected_with_its_name_and_why_on_the_failures_list():
    state = ClusterState(clock=FakeClock())
    state.apply([sent("ok", T0, name="proj.add")])
    why = "refused, signature refused: DecodeError: Unknown certificate 'x 1'"
    changes = state.apply(
        [task_event("rejected", "r1", T0 + 1, name="proj.add", requeue=False, exception=why)]
    )
    task = state.tasks["r1"]
    assert (task.state, task.name, task.exception) == (REJECTED, "proj.add", why)
    assert list(state.failures) == ["r1"] and changes.new_failures == ["r1"]
    # the exporter's celery_task_rejected counts it under its name, not an empty one
    assert [k[1] for k in state.counters if k[0] == "rejected"] == ["proj.add"]
    # stock celery's task-rejected (a redelivered message) carries neither: nothing invented
    state.apply([task_event("rejected", "r2", T0 + 2, requeue=True)])
    assert (state.tasks["r2"].name, state.tasks["r2"].exception) == (None, None)


SIGNING_MONITOR = """
import json, sys
from pathlib import Path
from kombu.serialization import dumps, loads, registry
from celerytui.config import load_settings
from celerytui.core.monitor import client_app
from celerytui.signing_keys import make_key_pair, make_store
from celery import Celery

d = Path(sys.argv[1])
pair = make_key_pair(d, "m", password="pw")
settings = load_settings(env={}, broker_url="redis://127.0.0.1:1/0",
    result_backend="redis://127.0.0.1:1/1", security_key=str(pair.key),
    security_key_password="pw", security_certificate=str(pair.certificate),
    security_cert_store=str(make_store(d / "store", pair)))
app = client_app(settings)
other = Celery("other", set_as_current=False)  # someone else's app in the same process
ctype, enc, body = dumps({"x": 1}, serializer="auth")
out = {
    "task_serializer": app.conf.task_serializer,
    "signed_roundtrip": loads(body, ctype, enc, accept={"application/data"}),
    "default": dumps({"a": 1})[0],
    "json_no_accept": loads(b'{"a": 1}', "application/json", "utf-8"),
    "backend": app.backend.content_type,
    "result": app.backend.decode(app.backend.encode({"status": "SUCCESS", "result": 2})),
    "event": app.events.Dispatcher(enabled=False).serializer,
    "other_tasks": other.conf.task_serializer,
    "other_backend": other.conf.result_serializer,
}
print(json.dumps(out))
"""


def test_a_signing_monitor_still_decodes_json_and_signs_only_its_tasks(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SIGNING_MONITOR, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    import json

    assert json.loads(done.stdout) == {
        "task_serializer": "auth",
        "signed_roundtrip": {"x": 1},
        "default": "application/json",  # setup_security made it auth; we put JSON back
        "json_no_accept": {"a": 1},
        "backend": "application/json",
        "result": {"status": "SUCCESS", "result": 2},
        "event": "json",
        "other_tasks": "json",
        "other_backend": "json",
    }


def test_a_users_app_that_signs_on_its_own_is_seen_as_signed():
    from celery import Celery

    plain = Celery("proj", set_as_current=False)
    assert signing.adopt(plain, load_settings(env={})) == signing.UNSIGNED
    # proj configured the auth serializer itself (and called setup_security on import)
    own = Celery("proj", set_as_current=False)
    own.conf.update(task_serializer="auth", security_key="/etc/proj/key.pem")
    assert signing.adopt(own, load_settings(env={})).label == "signed"
    keyless = Celery("proj", set_as_current=False)
    keyless.conf.update(task_serializer="auth")
    state = signing.adopt(keyless, load_settings(env={}))
    assert state.refusal == (
        "this cluster takes only signed task messages (the app's task_serializer is auth) and "
        "this monitor cannot sign: set security_key; refused, nothing sent"
    )
    assert signing.state_of(keyless) is state
