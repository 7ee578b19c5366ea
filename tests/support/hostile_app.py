"""Hostile cluster text for the tests that check it stays inert, and a Celery app whose one
extra task is registered under a hostile name (``celery -A tests.support.hostile_app``).

Each hostile string holds Textual markup (a link, an ``@click`` action), an OSC 0 title and an
OSC 52 clipboard escape ended by BEL, U+2028 and U+2029 (line and paragraph separators) and
U+200B (zero-width space); the SHOWN_ form is what the user must read instead (raw strings:
every escape spelled out).
"""

from __future__ import annotations

from celerytui.config import load_settings
from celerytui.tasks import make_celery_app

TAIL = "\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\u2028\u2029\u200b"
SHOWN_TAIL = r"\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\u2028\u2029\u200b"
TASK_NAME = "x[link=file:///etc/passwd]y[/link][@click=app.quit]" + TAIL
SHOWN_TASK_NAME = r"x[link=file:///etc/passwd]y[/link][@click=app.quit]" + SHOWN_TAIL
WORKER_NAME = "w[b]9[/b][@click=app.quit]" + TAIL  # the part of a hostname before "@host"
SHOWN_WORKER_NAME = r"w[b]9[/b][@click=app.quit]" + SHOWN_TAIL

app = make_celery_app(load_settings())


@app.task(name=TASK_NAME)
def hostile(*args, **kwargs) -> str:
    return "done"


def hostile_worker(broker: str, backend: str, log_dir):
    """A WorkerProcess of this app (not started) whose hostname is hostile too
    (``WORKER_NAME@celerytui-test``); its log file keeps a plain name."""
    from tests.support.workers import WorkerProcess

    worker = WorkerProcess(
        broker, backend, log_dir, name="hostile", app="tests.support.hostile_app", concurrency=1
    )
    worker.hostname = WORKER_NAME + "@celerytui-test"
    worker.cmd[worker.cmd.index("-n") + 1] = worker.hostname
    return worker


def runs_logged(worker) -> int:
    """How many times the worker's log says the hostile task (by its real name) succeeded."""
    log = worker.log_path.read_text(errors="replace")
    return sum(
        1
        for line in log.split("\n")  # (splitlines would split at U+2028)
        if f"Task {TASK_NAME}[" in line and "succeeded" in line
    )
