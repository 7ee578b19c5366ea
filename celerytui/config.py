"""Settings: defaults < TOML file < environment < CLI flags.

SKELETON — the foundation issue fills in loading, validation and redaction. The field names
below are the contract the rest of the package codes against.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


class ConfigError(ValueError):
    """A bad setting: the message names the key and where it came from."""


@dataclass(slots=True)
class DiskHost:
    """One SSH disk-check host. ``name`` is what tasks are called with (``local`` = no SSH)."""

    name: str
    host: str | None = None  # defaults to name
    port: int = 22
    user: str = "monitor"
    key_file: str | None = None
    known_hosts: str | None = None  # defaults to ~/.ssh/known_hosts
    accept_unknown_host_key: bool = False
    path: str = "/"
    timeout: float = 10.0


@dataclass(slots=True)
class Thresholds:
    queue_backlog: int = 100  # messages waiting in one queue
    failure_rate: float = 0.25  # failed / finished over the window
    failure_window: float = 300.0  # seconds
    disk_percent: float = 90.0
    min_finished_for_rate: int = 20


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


def load_settings(config_path: str | None = None, env=None, **flags) -> Settings:
    env = os.environ if env is None else env
    s = Settings()
    if "CELERYTUI_BROKER_URL" in env or "CELERY_BROKER_URL" in env:
        s.broker_url = env.get("CELERYTUI_BROKER_URL") or env["CELERY_BROKER_URL"]
    if "CELERYTUI_RESULT_BACKEND" in env or "CELERY_RESULT_BACKEND" in env:
        s.result_backend = env.get("CELERYTUI_RESULT_BACKEND") or env["CELERY_RESULT_BACKEND"]
    for k, v in flags.items():
        if v is not None:
            setattr(s, k, v)
    return s


def redact(url: str | None) -> str:
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url or "", mask="****")
