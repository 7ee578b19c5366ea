"""No secret from a broker URL or a webhook reaches anything celerytui prints, serves or logs.

Every URL shape of tests/support/secret_urls.py goes, by environment as the README advises,
through every command: `status`, `status --json`, `tail`, `fire`, `exporter`, `config`, and the
TUI's header. Against a closed port each must fail with its one line; against a redis-server
that really wants those passwords (and an ACL user called ``ops@example.com``) the commands
run for real, the exporter serves /metrics and /healthz, and `tail` follows. stdout, stderr,
log records (DEBUG and up), HTTP bodies and the screen are searched for every piece of every
secret. Last, a real worker whose failure webhook fails (HTTP 500, or a refused port) must not
write the hook's token into its log.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import logging
import os
import signal
import threading

import pytest
from click.testing import CliRunner

from celerytui.cli import main
from tests.support.commands import LineReader, command_env, start_celerytui
from tests.support.exporter_http import get
from tests.support.secret_urls import SHAPES, Shape, leaks
from tests.support.services import RedisServer, free_port, service_missing, wait_for
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.redis

SHAPE_IDS = [shape.id for shape in SHAPES]
REAL = [shape for shape in SHAPES if shape.authenticates]
SERVED = {"password-holding-at", "password-holding-%40", "user-holding-at"}  # as processes
CLOSED_PORT = free_port()  # nothing listens there
COMMANDS = {
    "status": ["status"],
    "status --json": ["status", "--json"],
    "tail": ["tail"],
    "fire": ["fire", "email", "ops@example.com", "hello"],
    "exporter": ["exporter", "--port", "0"],
    "config": ["config"],
}


def _env(shape: Shape, port: int) -> dict[str, str]:
    """Broker and backend by environment (never argv: `ps` shows argv to every user)."""
    url = shape.url("127.0.0.1", port)
    backend = url if url.startswith("redis") else f"redis://127.0.0.1:{CLOSED_PORT}/1"
    return {
        "CELERY_BROKER_URL": url,
        "CELERY_RESULT_BACKEND": backend,
        "XDG_CONFIG_HOME": "/nonexistent-celerytui-test",
    }


def _host(shape: Shape) -> str:
    return "[::1]" if shape.id == "ipv6" else "127.0.0.1"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def run_command(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `celerytui ARGS` in this process: (exit code, stdout + stderr + every log record)."""
    records = _Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    unset = {k: None for k in os.environ if k.startswith(("CELERYTUI_", "CELERY_"))}
    try:
        result = CliRunner().invoke(main, args, env={**unset, **env})
    finally:
        root.removeHandler(records)
        root.setLevel(level)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}:\n{result.output}")
    return result.exit_code, result.output + "\n".join(records.lines)


# ------------------------------------------------------------------ every shape, closed port


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_commands_on_an_unreachable_broker_show_no_secret(shape):
    env = _env(shape, CLOSED_PORT)
    for name, args in COMMANDS.items():
        code, text = run_command(args, env)
        assert leaks(shape, text) == [], f"{name} leaked:\n{text}"
        if name == "config" and code == 0:  # config needs no broker: it shows the URL
            assert f"{_host(shape)}:{CLOSED_PORT}" in text
        else:  # one Error: line naming the (redacted) broker, exit 2
            assert code == 2, f"{name}: {text}"
            error = next(line for line in text.splitlines() if line.startswith("Error: "))
            assert _host(shape) in error, error
        for visible in shape.shown:
            assert visible in text, f"{name} hid {visible!r}:\n{text}"


# --------------------------------------------------------- redis that wants those passwords


@pytest.fixture(scope="module")
def guarded_redis():
    """A redis-server whose default user takes the table's passwords and whose ACL has a user
    named ``ops@example.com``: the redis shapes really authenticate."""
    from urllib.parse import unquote

    import redis

    try:
        server = RedisServer().start()
    except (ImportError, AssertionError, OSError) as exc:
        service_missing(f"embedded redis-server ({exc})")
    client = redis.Redis(port=server.port)
    passwords: dict[str, list[str]] = {}
    for shape in REAL:
        passwords.setdefault(shape.redis_user, []).append(unquote(shape.secrets[0]))
    for user, words in passwords.items():
        if user != "default":
            client.execute_command(
                "ACL", "SETUSER", user, "on", *[f">{w}" for w in words], "~*", "&*", "+@all"
            )
    client.execute_command(
        "ACL",
        "SETUSER",
        "default",
        "on",
        *[f">{w}" for w in passwords["default"]],
        "~*",
        "&*",
        "+@all",
    )
    client.close()
    yield server
    server.cleanup()


def _stop(proc) -> str:
    """SIGINT the command, wait for it to end, and return its exit code."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(10)
    except Exception:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    return proc.returncode


@pytest.mark.parametrize("shape", REAL, ids=[s.id for s in REAL])
def test_commands_on_a_broker_that_wants_the_password_show_no_secret(shape, guarded_redis):
    env = _env(shape, guarded_redis.port)
    url_shown = f"127.0.0.1:{guarded_redis.port}"
    outputs = {}
    for name in ("status", "status --json", "fire", "config"):
        code, text = outputs[name] = run_command(COMMANDS[name], env)
        assert leaks(shape, text) == [], f"{name} leaked:\n{text}"
        assert url_shown in text or name == "fire", f"{name}:\n{text}"
        assert code in (0, 1), f"{name} failed on a good broker:\n{text}"  # 1: no worker yet
    text = outputs["status --json"][1]
    report = json.loads(text[: text.rindex("}") + 1])
    assert report["broker"]["reachable"] is True and "****" in report["broker"]["url"]


@pytest.mark.parametrize("shape", [s for s in REAL if s.id in SERVED], ids=lambda s: s.id)
def test_exporter_and_tail_processes_show_no_secret(shape, guarded_redis):
    """Real processes that run on: what /metrics and /healthz serve, and their stderr."""
    env = _env(shape, guarded_redis.port)
    url_shown = f"127.0.0.1:{guarded_redis.port}"
    sub_env = command_env(**env)
    port = free_port()
    exporter = start_celerytui("exporter", "--port", str(port), env=sub_env)
    tail = start_celerytui("tail", env=sub_env)
    ex_err, tail_err, tail_out = (
        LineReader(exporter.stderr),
        LineReader(tail.stderr),
        LineReader(tail.stdout),
    )
    try:
        ex_err.wait_for(
            lambda line: f"127.0.0.1:{port}/metrics" in line, 30, what="the exporter to listen"
        )
        wait_for(
            lambda: json.loads(get(f"http://127.0.0.1:{port}/healthz")[1])["connected"],
            20,
            what="/healthz to say connected",
        )
        bodies = [get(f"http://127.0.0.1:{port}{path}")[1] for path in ("/metrics", "/healthz")]
        assert "celery_" in bodies[0]
        tail_err.wait_for(lambda line: "tail: following " in line, 30, what="tail to follow")
    finally:
        codes = _stop(exporter), _stop(tail)
    for reader in (ex_err, tail_err, tail_out):
        with contextlib.suppress(AssertionError):
            reader.wait_for(lambda _line: False, 2)  # read to the end of the pipe
    seen = "\n".join([*bodies, *ex_err.lines, *tail_err.lines, *tail_out.lines])
    assert leaks(shape, seen) == [], seen
    assert any(url_shown in line for line in ex_err.lines + tail_err.lines), seen
    assert codes == (0, 0) or codes == (0, 130), (codes, seen)


# ------------------------------------------------------------------------------ TUI header


async def _tui_text(shape: Shape, settings) -> tuple[str, str]:
    """The screen once the header names the broker and its connection state, and the
    header's record."""
    from celerytui.app import make_app
    from tests.ui.conftest import wait_until
    from tests.ui.screen_text import screen_text

    app = make_app(settings)
    async with app.run_test(size=(160, 30), notifications=True) as pilot:
        await wait_until(
            pilot,
            lambda: _host(shape) in screen_text(app) and "connect" in screen_text(app),
            what=f"{shape.id} header",
        )
        return screen_text(app), repr(app.header_info())


async def test_tui_header_shows_every_broker_without_its_secret():
    from celerytui.config import ConfigError, load_settings

    for shape in SHAPES:
        try:
            settings = load_settings(env=_env(shape, CLOSED_PORT))
        except ConfigError as exc:  # the URL itself is bad: the CLI test saw its Error: line
            assert leaks(shape, str(exc)) == [], str(exc)
            continue
        text, header = await _tui_text(shape, settings)
        assert leaks(shape, text + header) == [], f"{shape.id}:\n{text}\n{header}"
        for visible in shape.shown:
            assert visible in text, f"{shape.id} hid {visible!r}:\n{text}"


# -------------------------------------------------------------------- the failure webhook


class _FailingHook(http.server.BaseHTTPRequestHandler):
    posts: list[str] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        type(self).posts.append(self.rfile.read(length).decode())
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


HOOK_PATH = "/hooks/Tk1Secret/Tk2Secret?token=Tk3Secret"
HOOK_SECRETS = ("Tk1Secret", "Tk2Secret", "Tk3Secret")


@pytest.mark.parametrize("answer", ["http-500", "refused"])
def test_a_failing_webhook_never_writes_its_token_to_the_worker_log(
    answer, redis_urls, celery_app, tmp_path
):
    server = None
    if answer == "http-500":
        _FailingHook.posts = []
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FailingHook)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
    else:
        port = CLOSED_PORT
    broker, backend = redis_urls
    worker = WorkerProcess(
        broker,
        backend,
        tmp_path,
        extra_env={
            "CELERYTUI_ALERT_WEBHOOK": f"http://127.0.0.1:{port}{HOOK_PATH}",
            "CELERYTUI_ALERT_TIMEOUT": "2",
        },
    )
    try:
        worker.start(celery_app)
        celery_app.send_task("celerytui.tasks.validate_order", args=[""])
        line = wait_for(
            lambda: next(
                (ln for ln in worker.log_tail(200).splitlines() if "not delivered" in ln), None
            ),
            30,
            what="the worker to log the undelivered alert",
        )
    finally:
        worker.stop()
        if server is not None:
            server.shutdown()
            server.server_close()
    log = worker.log_path.read_text(errors="replace")
    assert [s for s in HOOK_SECRETS if s in log] == [], log
    assert f"http://127.0.0.1:{port}/****" in line
    assert ("HTTP 500" in line) if answer == "http-500" else ("refused" in line.lower())
    if server is not None:
        assert json.loads(_FailingHook.posts[0])["task"] == "celerytui.tasks.validate_order"
