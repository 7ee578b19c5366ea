"""The deploy/ files, checked by the tools that will read them: promtool, systemd-analyze, a real
supervisord running the shipped programs, and the dashboard's structure as Grafana needs it."""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from celerytui.config import load_settings
from tests.support.services import free_port, service_missing, stop_process, wait_for

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
VENV_BIN = Path(sys.executable).parent
SHIPPED_BIN = "/opt/celerytui/.venv/bin/"
ENV_FILE = "/etc/celerytui/celerytui.env"
SERVICES = sorted((DEPLOY / "systemd").glob("*.service"))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        service_missing(name)
    return path


def _run(*argv: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


# --------------------------------------------------------------------------------- prometheus


@pytest.mark.parametrize(
    "argv",
    [
        ("check", "config", "prometheus.yml"),
        ("check", "rules", "celerytui-alerts.yml"),
        ("test", "rules", "celerytui-alerts.test.yml"),
    ],
    ids=["check-config", "check-rules", "rule-unit-tests"],
)
def test_promtool_accepts_the_prometheus_files(argv):
    promtool = _tool("promtool")
    result = _run(promtool, *argv, cwd=DEPLOY / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rule_unit_tests_cover_every_alert():
    rules = (DEPLOY / "prometheus" / "celerytui-alerts.yml").read_text()
    tests = (DEPLOY / "prometheus" / "celerytui-alerts.test.yml").read_text()
    alerts = set(re.findall(r"^\s*- alert: (\w+)", rules, re.M))
    assert len(alerts) >= 10
    assert alerts <= set(re.findall(r"alertname: (\w+)", tests))


# ------------------------------------------------------------------------------------ systemd


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive in units
    parser.read(path)
    return parser


def _env_example() -> dict[str, str]:
    """celerytui.env.example as systemd's EnvironmentFile= reads it: KEY=VALUE lines, quotes
    stripped only around a whole value (unquoted values keep inner quotes: JSON survives)."""
    env = {}
    for line in (DEPLOY / "systemd" / "celerytui.env.example").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"not KEY=VALUE: {line!r}"
        assert "\\" not in value, f"{key}: systemd would unescape the backslash"
        if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) > 1:
            value = value[1:-1]
        env[key] = value
    return env


def test_systemd_analyze_verifies_the_units(tmp_path):
    analyze = _tool("systemd-analyze")
    # verify checks that ExecStart's program exists: point the shipped venv path at this one
    for unit in [*SERVICES, DEPLOY / "systemd" / "celerytui.target"]:
        text = unit.read_text().replace(SHIPPED_BIN, f"{VENV_BIN}/")
        (tmp_path / unit.name).write_text(text)
    units = sorted(str(p) for p in tmp_path.iterdir())
    result = _run(analyze, "verify", "--man=no", *units, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # it warns (unknown keys, bad values) on stderr yet exits 0: any output is a finding
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


def test_the_units_are_wired_to_the_target_and_the_env_file():
    target = _unit(DEPLOY / "systemd" / "celerytui.target")
    assert set(target["Unit"]["Wants"].split()) == {p.name for p in SERVICES}
    assert target["Install"]["WantedBy"] == "multi-user.target"
    example = (DEPLOY / "systemd" / "celerytui.env.example").read_text()
    assert example.splitlines()[0].startswith(f"# {ENV_FILE} ")  # where it is installed
    env = _env_example()
    for path in SERVICES:
        unit = _unit(path)
        service = unit["Service"]
        assert unit["Unit"]["PartOf"] == "celerytui.target", path.name
        assert unit["Install"]["WantedBy"] == "celerytui.target", path.name
        assert service["EnvironmentFile"] == ENV_FILE, path.name
        assert service["ExecStart"].startswith(SHIPPED_BIN), path.name
        assert service["Restart"] in ("always", "on-failure"), path.name
        assert service["KillMode"] == "mixed", path.name
        used = set(re.findall(r"\$\{(\w+)\}", service["ExecStart"]))
        assert used <= set(env), f"{path.name} uses {sorted(used - set(env))} not in the example"


def test_the_env_example_as_systemd_reads_it_is_a_valid_configuration():
    settings = load_settings(env=_env_example())
    assert settings.broker_url.startswith("redis://") and settings.result_backend.endswith("/1")
    assert settings.http_targets and settings.disk_hosts[0].name == "server01"
    assert settings.disk_hosts[0].known_hosts  # the example does not teach skipping host keys


# -------------------------------------------------------------------------------- supervisord


def _supervisor_conf(tmp: Path, sock: Path, broker: str, backend: str, port: int) -> Path:
    """The shipped conf with only its environment-specific lines (see its header) rewritten,
    behind the [supervisord]/[supervisorctl] sections a host's main supervisord.conf holds."""
    text = (DEPLOY / "supervisor" / "celerytui.conf").read_text()
    assert len(re.findall(rf"^command={re.escape(SHIPPED_BIN)}", text, re.M)) == 5
    text = text.replace(SHIPPED_BIN, f"{VENV_BIN}/")
    text = text.replace("directory=/opt/celerytui\n", f"directory={REPO}\n")
    text = re.sub(r"^user=celery\n", "", text, flags=re.M)  # supervisord runs as this user
    text = text.replace("/var/log/celerytui/", f"{tmp}/log/")
    text = text.replace("/var/lib/celerytui/", f"{tmp}/lib/")
    text = re.sub(r"--concurrency \d+", "--concurrency 1", text)  # a shared 2-core machine
    text = text.replace("--port 9808", f"--port {port}")
    text = re.sub(r"redis://:CHANGE-ME@127\.0\.0\.1:6379/0", broker, text)
    text = re.sub(r"redis://:CHANGE-ME@127\.0\.0\.1:6379/1", backend, text)
    settings = "\n".join(line for line in text.splitlines() if not line.startswith(";"))
    assert "CHANGE-ME" not in settings and "/opt/" not in settings and "/var/" not in settings
    (tmp / "log").mkdir()
    (tmp / "lib").mkdir()
    head = f"""[supervisord]
logfile={tmp}/log/supervisord.log
pidfile={tmp}/supervisord.pid
childlogdir={tmp}/log

[unix_http_server]
file={sock}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{sock}

"""
    conf = tmp / "supervisord.conf"
    conf.write_text(head + text)
    return conf


def _descendants(root: int) -> set[int]:
    """Every live process below ``root``, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rpartition(")")[2].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _worker_up(port: int) -> dict[str, float]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as response:
            text = response.read().decode()
    except OSError:
        return {}
    return {
        s.labels["hostname"]: s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "celery_worker_up"
    }


def test_supervisord_runs_the_shipped_programs_and_stops_them_all(tmp_path, redis_urls):
    supervisord, supervisorctl = VENV_BIN / "supervisord", VENV_BIN / "supervisorctl"
    if not supervisord.exists():
        service_missing("supervisord (pip install supervisor)")
    broker, backend = redis_urls
    port = free_port()
    sock_dir = Path(tempfile.mkdtemp(prefix="ctui-sv-"))  # a unix socket path must stay short
    conf = _supervisor_conf(tmp_path, sock_dir / "sv.sock", broker, backend, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY", "CELERYTUI_"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # no user config file sneaks in
    proc = subprocess.Popen(
        [str(supervisord), "-n", "-c", str(conf)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def ctl(*args: str) -> subprocess.CompletedProcess:
        return _run(str(supervisorctl), "-c", str(conf), *args, timeout=30)

    programs = (
        "celerytui-worker-http",
        "celerytui-worker-disk",
        "celerytui-beat",
        "celerytui-exporter",
        "celerytui-record",
    )
    try:

        def all_running() -> bool:
            assert proc.poll() is None, f"supervisord exited: {proc.stderr.read()}"
            lines = ctl("status").stdout.splitlines()
            states = {
                line.split()[0]: line.split()[1] for line in lines if line.startswith("celerytui:")
            }  # not "...sock no such file" yet
            bad = set(states.values()) - {"RUNNING", "STARTING"}
            assert not bad, f"a program failed: {lines}\n{_logs(tmp_path)}"
            return len(states) == len(programs) and set(states.values()) == {"RUNNING"}

        wait_for(all_running, 30, 0.5, what="every program RUNNING under supervisord")
        status = ctl("status").stdout
        for program in programs:
            assert f"celerytui:{program}" in status
        host = socket.gethostname()
        wait_for(
            lambda: (
                _worker_up(port).get(f"http@{host}") == 1
                and _worker_up(port).get(f"disk@{host}") == 1
            ),
            20,
            0.5,
            what="the exporter to see both workers up",
        )
        processes = _descendants(proc.pid)
        assert len(processes) >= 7  # 5 programs + one pool child per worker
        journal = tmp_path / "lib" / "journal.sqlite3"
        wait_for(journal.exists, 10, 0.2, what="the recorder's journal")

        result = ctl("shutdown")
        assert result.returncode == 0, result.stdout + result.stderr
        assert proc.wait(30) == 0
        wait_for(
            lambda: not [p for p in processes if _alive(p)],
            10,
            0.1,
            what="every process supervisord started to be gone",
        )
    finally:
        _stop_supervisord(proc, ctl)
        shutil.rmtree(sock_dir, ignore_errors=True)


def _stop_supervisord(proc: subprocess.Popen, ctl) -> None:
    """After a failed test: shut supervisord down its own way, then kill whatever it left."""
    if proc.poll() is not None:
        return
    left = _descendants(proc.pid)
    try:
        ctl("shutdown")
        proc.wait(30)
    except subprocess.TimeoutExpired:
        pass
    stop_process(proc)
    for pid in left:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _logs(tmp: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in (tmp / "log").glob("*.log"))


# ------------------------------------------------------------------------------------ grafana


def test_the_dashboard_has_the_structure_grafana_imports():
    dashboard = json.loads((DEPLOY / "grafana" / "celerytui.json").read_text())
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 30
    assert dashboard["uid"] and dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"  # provisioning needs no __inputs
    assert variables["datasource"]["query"] == "prometheus"
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"] == panel["datasource"], panel["title"]
            for var in re.findall(r"\$(\w+)", target["expr"]):
                assert var in variables or var.startswith("__"), f"{panel['title']}: ${var}"
