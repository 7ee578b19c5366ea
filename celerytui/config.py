"""Settings: defaults < TOML file < environment < CLI flags.

One ``Settings`` object for both sides (worker and monitor). Every value is validated on the way
in, so a typo fails at start with one line naming the key and where it came from, instead of as a
traceback deep inside Celery. Stays light to import: ``celerytui --help`` loads this module.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from celerytui.config_checks import (
    FIELD_CHECKS,
    THRESHOLD_CHECKS,
    Invalid,
    expected,
    unknown_key,
)
from celerytui.contexts import FILE_KEYS, ContextError, choose_context, context_names
from celerytui.redaction import redact
from celerytui.settings_model import MAX_SIZE_DEFAULT, RETENTION_DEFAULT, DiskHost

ENV_PREFIX = "CELERYTUI_"
CONFIG_ENV = "CELERYTUI_CONFIG"


class ConfigError(ValueError):
    """A bad setting: the message names the key and where it came from."""


class ConfigWarning(UserWarning):
    """A usable but risky setting, e.g. a config file with a password that others can read."""


@dataclass(slots=True)
class Thresholds:
    queue_backlog: int = 100  # messages waiting in one queue
    failure_rate: float = 0.25  # failed / finished over the window
    failure_window: float = 300.0  # seconds
    disk_percent: float = 90.0
    min_finished_for_rate: int = 20
    # stuck: STARTED longer than max(its name's p99 runtime x stuck_factor, stuck_floor)
    stuck_factor: float = 5.0
    stuck_floor: float = 60.0  # seconds
    # beat: a run may come this long after its time (at most this share of the entry's
    # period), and counts as late past beat_late (at most half that window)
    beat_grace: float = 60.0  # seconds
    beat_grace_share: float = 0.5
    beat_late: float = 10.0  # seconds
    queue_oldest: float = 300.0  # seconds the oldest task sent to a queue may wait unreceived


@dataclass(slots=True)
class Settings:
    broker_url: str = "redis://localhost:6379/0"
    result_backend: str = "redis://localhost:6379/1"
    app: str | None = None  # -A module of the user's own Celery app
    read_only: bool = False
    max_tasks: int = 100_000
    http_targets: list[str] = field(default_factory=list)
    disk_hosts: list[DiskHost] = field(default_factory=list)
    alert_webhook: str | None = None
    alert_timeout: float = 3.0
    # monitor side: every alert to alert_webhook and these (core/alert_delivery.py), an
    # active one again each alert_resend seconds
    alert_webhooks: list[str] = field(default_factory=list, repr=False)  # tokens in paths
    alert_resend: float = 3600.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    timezone: str | None = None  # None: UTC on the worker side, local time in the UI
    # worker-side knobs (the seed's behaviour, tunable so tests take seconds)
    email_delay: float = 3.0
    retry_base: float = 1.0  # risky_operation countdown = retry_base * 2 ** retries
    http_timeout: float = 10.0
    result_expires: int = 86_400
    worker_metrics_port: int | None = None
    # monitor-side knobs
    worker_timeout: float = 60.0  # exporter: a silent worker is down after this
    worker_purge: float = 600.0  # exporter: its series are dropped after this
    cluster_name: str = "celery"
    context: str | None = None  # the [contexts.NAME] in effect (celerytui.contexts); None: top
    # signed task messages (celerytui/signing.py): Celery's auth serializer, on both sides
    signed: bool = False  # the cluster requires signatures even where no certificate is named
    security_key: str | None = None  # PEM private key file (RSA) that signs what we send
    security_key_password: str | None = field(default=None, repr=False)  # never shown
    security_certificate: str | None = None  # PEM certificate of that key
    security_cert_store: str | None = None  # directory (or glob) of the trusted certificates
    # the journal (history): where (None: the default SQLite file per cluster), whether the
    # TUI records, and how much is kept
    store: str | None = None
    record: bool = True
    retention: float = RETENTION_DEFAULT
    max_size: int = MAX_SIZE_DEFAULT
    # the TUI's look: a Textual theme name, and binding id -> keys (celerytui/keymaps.py)
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    # where each value came from: "max_tasks" -> "env CELERYTUI_MAX_TASKS"; absent = default
    sources: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:  # logs and tracebacks show settings: never their passwords
        items = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
        return redact(f"Settings({items})")

    def source_of(self, key: str) -> str:
        """Where ``key`` (a field, or ``thresholds.<name>``) got its value, for messages."""
        return self.sources.get(key, "default")


# ------------------------------------------------------------------------------------ loading

_FLAG_NAMES = {"broker_url": "--broker"}  # flags whose CLI spelling is not the field name


def default_config_path() -> str:
    """The per-user config file: ``celerytui/config.toml`` in the platform's config dir."""
    import platformdirs

    return os.path.join(platformdirs.user_config_dir("celerytui"), "config.toml")


def config_file(config_path: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The TOML file load_settings reads: ``config_path``, else $CELERYTUI_CONFIG (both must
    exist), else the per-user file if there is one."""
    env = os.environ if env is None else env
    path = config_path or env.get(CONFIG_ENV) or None
    if path is None and os.path.isfile(default_config_path()):
        path = default_config_path()
    return None if path is None else os.fspath(path)


def load_settings(
    config_path: str | None = None,
    env: Mapping[str, str] | None = None,
    context: str | None = None,
    **flags: Any,
) -> Settings:
    """Defaults < TOML file (``config_path``, else $CELERYTUI_CONFIG, else the user config dir)
    < environment < the file's ``[contexts.NAME]`` (``context``, else $CELERYTUI_CONTEXT, else
    ``current_context``; see celerytui.contexts) < ``flags`` (keyword args named like the
    fields; None means "not given")."""
    env = os.environ if env is None else env
    settings = Settings()
    path = config_file(config_path, env)
    data = _read_file(path) if path is not None else {}
    if path is not None:
        _apply_table(settings, {k: v for k, v in data.items() if k not in FILE_KEYS}, path)
    _apply_env(settings, env)
    _apply_context(settings, context, env, data, path)
    for key, value in flags.items():
        if value is None:
            continue
        source = f"flag {_FLAG_NAMES.get(key, '--' + key.replace('_', '-'))}"
        if key == "thresholds":
            _apply_thresholds(settings, value, source)
        elif key in FIELD_CHECKS:
            _set(settings, key, value, source)
        else:
            raise ConfigError(f"{key}: unknown setting (from {source})")
    _warn_if_key_exposed(settings)
    return settings


def known_contexts(
    config_path: str | None = None, env: Mapping[str, str] | None = None
) -> list[str]:
    """The names of the config file's ``[contexts.NAME]`` tables, in file order."""
    env = os.environ if env is None else env
    path = config_file(config_path, env)
    if path is None:
        return []
    try:
        with warnings.catch_warnings():  # load_settings has said it once already
            warnings.simplefilter("ignore", ConfigWarning)
            return context_names(_read_file(path), path)
    except ContextError as exc:
        raise ConfigError(str(exc)) from None


def _apply_context(
    settings: Settings,
    flag: str | None,
    env: Mapping[str, str],
    data: Mapping[str, Any],
    path: str | None,
) -> None:
    """The chosen context's table over what the file and the environment gave; read_only set
    anywhere below stays set (a context only ever tightens it)."""
    try:
        choice = choose_context(flag, env, data, path)
    except ContextError as exc:
        raise ConfigError(str(exc)) from None
    if choice is None:
        return
    read_only, read_only_source = settings.read_only, settings.sources.get("read_only")
    _apply_table(settings, choice.table, f"context {choice.name} ({path})", in_context=True)
    if read_only and not settings.read_only:
        settings.read_only = True
        settings.sources["read_only"] = read_only_source or "default"
    settings.context = choice.name
    settings.sources["context"] = choice.source


def _set(settings: Settings, key: str, raw: Any, source: str) -> None:
    target: Settings | Thresholds
    if key.startswith("thresholds."):
        convert, target, attr = THRESHOLD_CHECKS[key[11:]], settings.thresholds, key[11:]
    else:
        convert, target, attr = FIELD_CHECKS[key], settings, key
    try:
        value = convert(raw)
    except Invalid as exc:
        raise ConfigError(f"{key}{exc.path}: {exc} (from {source})") from None
    setattr(target, attr, value)
    settings.sources[key] = source


def _apply_thresholds(settings: Settings, value: Any, source: str) -> None:
    if isinstance(value, Thresholds):
        value = asdict(value)
    if not isinstance(value, Mapping):
        raise ConfigError(f"thresholds: {expected('a table of thresholds', value)} (from {source})")
    for name, raw in value.items():
        if name not in THRESHOLD_CHECKS:
            raise ConfigError(
                f"thresholds.{name}: {unknown_key(name, THRESHOLD_CHECKS)} (from {source})"
            )
        _set(settings, f"thresholds.{name}", raw, source)


def _apply_env(settings: Settings, env: Mapping[str, str]) -> None:
    # Celery's own names first, so CELERYTUI_BROKER_URL wins over CELERY_BROKER_URL
    for key, name in (
        ("broker_url", "CELERY_BROKER_URL"),
        ("result_backend", "CELERY_RESULT_BACKEND"),
    ):
        if env.get(name):
            _set(settings, key, env[name], f"env {name}")
    for key in FIELD_CHECKS:
        name = ENV_PREFIX + key.upper()
        if name in env:
            _set(settings, key, env[name], f"env {name}")
    for key in THRESHOLD_CHECKS:
        name = f"{ENV_PREFIX}THRESHOLDS_{key.upper()}"
        if name in env:
            _set(settings, f"thresholds.{key}", env[name], f"env {name}")


def _read_file(path: str) -> dict[str, Any]:
    import tomllib

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"invalid TOML in {path}: not UTF-8 text") from None
    _warn_if_exposed(path, data)
    return data


def _apply_table(
    settings: Settings, data: Mapping[str, Any], source: str, in_context: bool = False
) -> None:
    """A table of settings (the file's top level, or one context's table)."""
    for key, value in data.items():
        if key == "thresholds":
            _apply_thresholds(settings, value, source)
        elif key in FIELD_CHECKS:
            _set(settings, key, value, source)
        else:
            known = {**FIELD_CHECKS, "thresholds": 0}
            if not in_context:
                known.update(dict.fromkeys(FILE_KEYS, 0))
            raise ConfigError(f"{key}: {unknown_key(key, known)} (from {source})")


_SECRET_KEY = re.compile(r"(?i)pass(word|wd)?$|secret|token|api_?key")


def _holds_secret(value: Any, key: str = "") -> bool:
    if isinstance(value, Mapping):
        return any(_holds_secret(item, str(name)) for name, item in value.items())
    if isinstance(value, list):
        return any(_holds_secret(item, key) for item in value)
    if _SECRET_KEY.search(key) and value not in ("", None, False):
        return True
    return isinstance(value, str) and redact(value) != value


def _warn_if_exposed(path: str, data: Mapping[str, Any]) -> None:
    """A password in a file others can read is a leak waiting to happen: say so, once."""
    try:
        exposed = os.name == "posix" and os.stat(path).st_mode & 0o044
    except OSError:
        return
    if exposed and _holds_secret(data):
        warnings.warn(
            ConfigWarning(
                f"{path} holds a password and other users can read it; run: chmod 600 {path}"
            ),
            stacklevel=4,
        )  # point at the caller of load_settings


def _warn_if_key_exposed(settings: Settings) -> None:
    """A signing key others can read lets them sign tasks: say so, as for a config password."""
    path = settings.security_key
    try:
        exposed = path and os.name == "posix" and os.stat(path).st_mode & 0o044
    except OSError:
        return  # a missing key is signing's error to report, with its own message
    if exposed:
        warnings.warn(
            ConfigWarning(
                f"{path} is a signing key and other users can read it; run: chmod 600 {path}"
            ),
            stacklevel=3,
        )


__all__ = [
    "ConfigError",
    "ConfigWarning",
    "DiskHost",
    "Settings",
    "Thresholds",
    "config_file",
    "default_config_path",
    "known_contexts",
    "load_settings",
    "redact",
]
