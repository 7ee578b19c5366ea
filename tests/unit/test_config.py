"""Settings: defaults < TOML file < environment < flags, validation messages, redaction."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from celerytui.config import (
    ConfigError,
    ConfigWarning,
    DiskHost,
    Settings,
    Thresholds,
    default_config_path,
    load_settings,
    redact,
)
from tests.support.settings_env import clean_settings_env  # noqa: F401 — fixture

pytestmark = pytest.mark.usefixtures("clean_settings_env")

# The README's example, kept here so the documented file is known to load.
EXAMPLE_TOML = """\
broker_url = "redis://:s3cret@redis.internal:6379/0"
result_backend = "redis://:s3cret@redis.internal:6379/1"
timezone = "Europe/Berlin"
max_tasks = 50000
read_only = true
http_targets = ["https://example.com/health", "https://api.example.com/ping"]
alert_webhook = "https://alerts.example.com/celery"

[thresholds]
queue_backlog = 500
disk_percent = 85

[[disk_hosts]]
name = "web1"
host = "10.0.0.5"
user = "monitor"
key_file = "~/.ssh/monitor_ed25519"
known_hosts = "~/.ssh/known_hosts"

[[disk_hosts]]
name = "local"
"""


def write(path: Path, text: str, mode: int = 0o600) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def test_nothing_set_gives_the_defaults():
    settings = load_settings(env={})
    assert settings == Settings()
    assert settings.source_of("broker_url") == "default"


def test_example_file_loads_with_types(tmp_path):
    path = write(tmp_path / "config.toml", EXAMPLE_TOML)
    s = load_settings(config_path=path, env={})
    assert s.broker_url == "redis://:s3cret@redis.internal:6379/0"
    assert (s.timezone, s.max_tasks, s.read_only) == ("Europe/Berlin", 50000, True)
    assert s.http_targets == ["https://example.com/health", "https://api.example.com/ping"]
    assert s.thresholds == Thresholds(queue_backlog=500, disk_percent=85.0)
    assert s.disk_hosts == [
        DiskHost(
            name="web1",
            host="10.0.0.5",
            user="monitor",
            key_file=os.path.expanduser("~/.ssh/monitor_ed25519"),
            known_hosts=os.path.expanduser("~/.ssh/known_hosts"),
        ),
        DiskHost(name="local"),
    ]
    assert s.source_of("thresholds.disk_percent") == path
    assert s.source_of("thresholds.failure_rate") == "default"


@pytest.mark.parametrize(
    ("key", "toml", "env_name", "env_value", "flag", "expected"),
    [
        (
            "broker_url",
            '"redis://file:6379/0"',
            "CELERYTUI_BROKER_URL",
            "redis://env:6379/0",
            "amqp://flag//",
            ("redis://file:6379/0", "redis://env:6379/0", "amqp://flag//"),
        ),
        ("max_tasks", "10", "CELERYTUI_MAX_TASKS", "20", 30, (10, 20, 30)),
        ("read_only", "false", "CELERYTUI_READ_ONLY", "yes", False, (False, True, False)),
        ("email_delay", "0.5", "CELERYTUI_EMAIL_DELAY", "0", 2, (0.5, 0.0, 2.0)),
        (
            "http_targets",
            '["http://file/"]',
            "CELERYTUI_HTTP_TARGETS",
            "http://a/, http://b/",
            ["http://flag/"],
            (["http://file/"], ["http://a/", "http://b/"], ["http://flag/"]),
        ),
    ],
)
def test_file_then_env_then_flag(tmp_path, key, toml, env_name, env_value, flag, expected):
    path = write(tmp_path / "c.toml", f"{key} = {toml}\n")
    env = {env_name: env_value}
    from_file = load_settings(config_path=path, env={})
    from_env = load_settings(config_path=path, env=env)
    from_flag = load_settings(config_path=path, env=env, **{key: flag})
    values = tuple(getattr(s, key) for s in (from_file, from_env, from_flag))
    assert values == expected
    flag_name = "--broker" if key == "broker_url" else "--" + key.replace("_", "-")
    assert [s.source_of(key) for s in (from_file, from_env, from_flag)] == [
        path,
        f"env {env_name}",
        f"flag {flag_name}",
    ]


def test_thresholds_from_file_env_and_flag(tmp_path):
    path = write(tmp_path / "c.toml", "[thresholds]\ndisk_percent = 80\nqueue_backlog = 7\n")
    env = {"CELERYTUI_THRESHOLDS_DISK_PERCENT": "70"}
    s = load_settings(config_path=path, env=env, thresholds={"queue_backlog": 9})
    assert (s.thresholds.disk_percent, s.thresholds.queue_backlog) == (70.0, 9)
    assert s.source_of("thresholds.disk_percent") == "env CELERYTUI_THRESHOLDS_DISK_PERCENT"


def test_celerytui_broker_url_wins_over_celery_broker_url():
    both = {"CELERY_BROKER_URL": "amqp://celery//", "CELERYTUI_BROKER_URL": "redis://tui:6379/0"}
    assert load_settings(env=both).broker_url == "redis://tui:6379/0"
    only_celery = {"CELERY_BROKER_URL": "amqp://celery//", "CELERY_RESULT_BACKEND": "rpc://"}
    s = load_settings(env=only_celery)
    assert (s.broker_url, s.result_backend) == ("amqp://celery//", "rpc://")
    assert s.source_of("broker_url") == "env CELERY_BROKER_URL"


def test_env_forms_disk_hosts_json_and_booleans():
    hosts = '[{"name": "db1", "port": "2222", "accept_unknown_host_key": true}]'
    s = load_settings(
        env={
            "CELERYTUI_DISK_HOSTS": hosts,
            "CELERYTUI_WORKER_METRICS_PORT": "9808",
            "CELERYTUI_ALERT_WEBHOOK": "",
        }
    )
    assert s.disk_hosts == [DiskHost(name="db1", port=2222, accept_unknown_host_key=True)]
    assert (s.worker_metrics_port, s.alert_webhook) == (9808, None)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", True), ("true", True), ("Yes", True), ("0", False), ("false", False), ("no", False)],
)
def test_boolean_spellings(text, value):
    assert load_settings(env={"CELERYTUI_READ_ONLY": text}).read_only is value


def test_config_path_from_env_var_and_flag_beats_it(tmp_path):
    by_env = write(tmp_path / "env.toml", "max_tasks = 11\n")
    by_flag = write(tmp_path / "flag.toml", "max_tasks = 22\n")
    assert load_settings(env={"CELERYTUI_CONFIG": by_env}).max_tasks == 11
    assert load_settings(config_path=by_flag, env={"CELERYTUI_CONFIG": by_env}).max_tasks == 22


def test_default_path_follows_xdg_config_home(monkeypatch, tmp_path):
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    assert default_config_path() == str(xdg / "celerytui" / "config.toml")
    write(xdg / "celerytui" / "config.toml", 'cluster_name = "prod"\n')
    s = load_settings(env={})
    assert s.cluster_name == "prod"
    assert s.source_of("cluster_name") == str(xdg / "celerytui" / "config.toml")


def test_default_path_under_home_without_xdg(monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    write(Path(os.environ["HOME"]) / ".config" / "celerytui" / "config.toml", "max_tasks = 5\n")
    assert load_settings(env={}).max_tasks == 5


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@host:6379/0", "redis://:****@host:6379/0"),
        ("amqp://guest:guest@host//", "amqp://guest:****@host//"),
        ("redis://host:6379/0", "redis://host:6379/0"),
        ("redis://user@host:6379/0", "redis://user@host:6379/0"),
        ("redis://:p@ss/w;rd@host/0", "redis://:****@host/0"),
        (
            "sentinel://:a@h1:26379;sentinel://:b@h2:26379",
            "sentinel://:****@h1:26379;sentinel://:****@h2:26379",
        ),
        ("redis://host/0?password=s3cret&ssl=1", "redis://host/0?password=****&ssl=1"),
        ("db+postgresql://app:s3cret@db/results", "db+postgresql://app:****@db/results"),
        (None, ""),
        ("", ""),
        ("not a url at all ::@@", "not a url at all ::@@"),
        ("redis://:x@h\nInjected", "redis://:****@h?Injected"),
        (b"redis://:s3cret@h", "redis://:****@h"),
        (12345, "12345"),
    ],
)
def test_redact(url, shown):
    assert redact(url) == shown


def test_redact_never_raises_on_garbage():
    class Hostile:
        def __str__(self):
            raise RuntimeError("boom")

    assert redact(Hostile()) == "<unprintable>"


def test_settings_repr_hides_passwords():
    s = load_settings(env={}, broker_url="redis://:s3cret@h:6379/0")
    assert "s3cret" not in repr(s)
    assert "redis://:****@h:6379/0" in repr(s)


def _error(**kwargs) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(**kwargs)
    message = str(caught.value)
    assert "\n" not in message and "s3cret" not in message
    return message


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"CELERYTUI_MAX_TASKS": "lots"},
            "max_tasks: expected an integer, got 'lots' (from env CELERYTUI_MAX_TASKS)",
        ),
        (
            {"CELERYTUI_MAX_TASKS": "-3"},
            "max_tasks: expected a positive integer, got '-3' (from env CELERYTUI_MAX_TASKS)",
        ),
        (
            {"CELERYTUI_READ_ONLY": "maybe"},
            "read_only: expected a boolean (true/false, yes/no, 1/0), got 'maybe' "
            "(from env CELERYTUI_READ_ONLY)",
        ),
        (
            {"CELERYTUI_TIMEZONE": "Mars/Olympus"},
            "timezone: expected an IANA timezone like 'UTC' or 'Europe/Berlin', got 'Mars/Olympus' "
            "(from env CELERYTUI_TIMEZONE)",
        ),
        (
            {"CELERYTUI_WORKER_METRICS_PORT": "70000"},
            "worker_metrics_port: expected a port number 1-65535, got '70000' "
            "(from env CELERYTUI_WORKER_METRICS_PORT)",
        ),
        (
            {"CELERY_BROKER_URL": "htp://:s3cret@localhost:6379/0"},
            "broker_url: expected a broker URL like redis://host:6379/0, "
            "got 'htp://:****@localhost:6379/0' (unknown scheme 'htp') "
            "(from env CELERY_BROKER_URL)",
        ),
        (
            {"CELERYTUI_RESULT_BACKEND": "redis://:s3cret@localhost:port/1"},
            "result_backend: expected a result backend URL with a valid host and port, "
            "got 'redis://:****@localhost:port/1' (from env CELERYTUI_RESULT_BACKEND)",
        ),
        (
            {"CELERYTUI_HTTP_TARGETS": "https://ok.example, ftp://files.example"},
            "http_targets[1]: expected an http:// or https:// URL, got 'ftp://files.example' "
            "(from env CELERYTUI_HTTP_TARGETS)",
        ),
        (
            {"CELERYTUI_DISK_HOSTS": '[{"name": "db1", "prot": 22}]'},
            "disk_hosts[0].prot: unknown key, did you mean 'port'? (from env CELERYTUI_DISK_HOSTS)",
        ),
        (
            {"CELERYTUI_DISK_HOSTS": '[{"name": "db1"'},
            """disk_hosts: expected a JSON list like [{"name": "web1"}], got '[{"name": "db1"' """
            "(from env CELERYTUI_DISK_HOSTS)",
        ),
        (
            {"CELERYTUI_THRESHOLDS_FAILURE_RATE": "1.5"},
            "thresholds.failure_rate: expected a fraction between 0 and 1, got '1.5' "
            "(from env CELERYTUI_THRESHOLDS_FAILURE_RATE)",
        ),
    ],
)
def test_bad_env_value_names_key_and_variable(env, message):
    assert _error(env=env) == message


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('max_tasks = "lots"', "max_tasks: expected an integer, got 'lots'"),
        ("http_timeout = -1", "http_timeout: expected a positive number, got -1"),
        ("max_task = 5", "max_task: unknown key, did you mean 'max_tasks'?"),
        (
            "[thresholds]\ndisk_percnt = 5",
            "thresholds.disk_percnt: unknown key, did you mean 'disk_percent'?",
        ),
        (
            '[[disk_hosts]]\nname = "a"\nport = 0',
            "disk_hosts[0].port: expected a port number 1-65535, got 0",
        ),
        ('[[disk_hosts]]\nhost = "10.0.0.5"', "disk_hosts[0]: missing key 'name'"),
        (
            '[[disk_hosts]]\nname = "a"\n[[disk_hosts]]\nname = "a"',
            "disk_hosts[1].name: duplicate host name 'a'",
        ),
        (
            'broker_url = "redis://:s3cret@localhost:99999/0"',
            "broker_url: expected a broker URL with a valid host and port, "
            "got 'redis://:****@localhost:99999/0'",
        ),
    ],
)
def test_bad_file_value_names_key_and_file(tmp_path, toml, message):
    path = write(tmp_path / "config.toml", toml + "\n")
    assert _error(config_path=path, env={}) == f"{message} (from {path})"


def test_bad_flag_value_names_the_flag():
    assert _error(env={}, max_tasks="lots") == (
        "max_tasks: expected an integer, got 'lots' (from flag --max-tasks)"
    )
    assert _error(env={}, broker_url="htp://localhost") == (
        "broker_url: expected a broker URL like redis://host:6379/0, got 'htp://localhost' "
        "(unknown scheme 'htp') (from flag --broker)"
    )


def test_broker_and_backend_schemes_that_celery_accepts():
    for broker in (
        "amqp://guest@rabbit//",
        "pyamqp://h//",
        "memory://",
        "rediss://h:6380/0",
        "sqla+postgresql://u@db/x",
        "redis://h1:6379/0;redis://h2:6379/0",
    ):
        assert load_settings(env={}, broker_url=broker).broker_url == broker
    for backend in (
        "rpc://",
        "rpc",
        "db+sqlite:///results.db",
        "cache+memcached://h:11211/",
        "rediss://h:6380/1",
    ):
        assert load_settings(env={}, result_backend=backend).result_backend == backend


def test_malformed_and_unreadable_files_are_one_line(tmp_path):
    broken = write(tmp_path / "broken.toml", 'max_tasks = \nbroker_url = "redis://:s3cret@h"\n')
    assert _error(config_path=broken, env={}).startswith(f"invalid TOML in {broken}: ")
    missing = str(tmp_path / "nope.toml")
    assert _error(config_path=missing, env={}) == f"config file not found: {missing}"
    assert _error(env={"CELERYTUI_CONFIG": missing}) == f"config file not found: {missing}"
    assert _error(config_path=str(tmp_path), env={}) == (
        f"cannot read config file {tmp_path}: Is a directory"
    )


def test_group_readable_file_with_password_warns(tmp_path):
    path = write(tmp_path / "config.toml", 'broker_url = "redis://:s3cret@h:6379/0"\n', 0o644)
    with pytest.warns(ConfigWarning) as caught:
        load_settings(config_path=path, env={})
    assert [str(w.message) for w in caught] == [
        f"{path} holds a password and other users can read it; run: chmod 600 {path}"
    ]


@pytest.mark.parametrize(
    ("url", "mode"),
    [
        ("redis://:s3cret@h:6379/0", 0o600),  # a password, but only the owner can read it
        ("redis://h:6379/0", 0o644),  # readable by all, but nothing secret in it
    ],
)
def test_private_file_or_no_password_is_quiet(tmp_path, url, mode):
    path = write(tmp_path / "config.toml", f'broker_url = "{url}"\n', mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigWarning)  # a warning would fail the load
        assert load_settings(config_path=path, env={}).broker_url == url


def test_webhook_token_counts_as_a_password(tmp_path):
    path = write(tmp_path / "c.toml", 'alert_webhook = "https://h.example/hook?token=abc"\n', 0o640)
    with pytest.warns(ConfigWarning, match="chmod 600"):
        load_settings(config_path=path, env={})


def test_unknown_flag_is_an_error():
    assert _error(env={}, max_taks=5) == "max_taks: unknown setting (from flag --max-taks)"
