"""The real ``celerytui`` in a real terminal (tmux) against a real worker whose hostname and
task name are hostile (markup, OSC 0 title and OSC 52 clipboard escapes, BEL, U+2028, U+200B):
every dialog, detail screen and toast shows them spelled out, the app lives, the pane's title
stays what it was and nothing reached the clipboard (tmux turns OSC 52 into a paste buffer)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess

import pytest

from tests.support import hostile_app as hostile
from tests.support.commands import CELERYTUI, command_env
from tests.support.services import wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]

SHOWN_HOST = hostile.SHOWN_WORKER_NAME + "@celerytui-test"
SHOWN_NAME = hostile.SHOWN_TASK_NAME
TITLE = "celerytui-test-title"
BOX_EDGES = str.maketrans("", "", "│▊▎▌")


def flat(text: str) -> str:
    return "".join(text.split())


class Pane:
    """One tmux pane on a server of our own (its own socket), running one command."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"celerytui-test-{os.getpid()}"
        self.env = env
        self.tmux("new-session", "-d", "-s", "t", "-x", "160", "-y", "60", *command)
        self.tmux("set-option", "-t", "t", "remain-on-exit", "on")
        self.tmux("select-pane", "-t", "t", "-T", TITLE)

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=10,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def show(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", "t", fmt).strip()

    def text(self) -> str:
        """The screen without whitespace or box edges, so wrapping inside a dialog or a toast
        does not matter (the hostile strings hold no whitespace)."""
        return flat(self.tmux("capture-pane", "-p", "-t", "t").translate(BOX_EDGES))

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "t", *(["-l", "--"] if literal else []), *keys)

    def wait_shown(self, *texts: str, what: str) -> None:
        try:
            wait_for(
                lambda: all(flat(t) in self.text() for t in texts), 20, interval=0.2, what=what
            )
        except AssertionError as exc:
            screen = self.tmux("capture-pane", "-p", "-t", "t")
            raise AssertionError(f"{exc}; the screen:\n{screen}") from None
        self.assert_inert()

    def assert_inert(self) -> None:
        assert self.show("#{pane_dead}") == "0", self.tmux("capture-pane", "-p", "-t", "t")
        assert self.show("#{pane_title}") == TITLE
        assert self.tmux("list-buffers") == ""  # OSC 52 would have made a paste buffer

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"],
            capture_output=True,
            env=self.env,
            timeout=10,
        )


@pytest.fixture
def hostile_worker(redis_urls, celery_app, tmp_path):
    worker = hostile.hostile_worker(*redis_urls, tmp_path)
    try:
        worker.start(celery_app)
        yield worker
    finally:
        worker.stop()


def test_real_celerytui_in_tmux_keeps_hostile_cluster_text_inert(
    redis_urls, celery_app, hostile_worker
):
    broker, backend = redis_urls
    pane = Pane([*CELERYTUI, "-b", broker, "--result-backend", backend], command_env())
    try:
        pane.wait_shown("Dashboard", "connected", what="the dashboard")
        wait_for(
            lambda: celery_app.send_task(hostile.TASK_NAME, args=[1]).get(timeout=10),
            20,
            what="the hostile task to run",
        )
        pane.wait_shown(SHOWN_HOST[:40], what="the hostile worker on the dashboard")

        pane.keys("4")
        pane.wait_shown("1 of 1 online", SHOWN_HOST[:40], what="the workers screen, its row")
        for key, words in (
            ("a", "Autoscale"),
            ("c", "Consume a queue on"),
            ("C", "Stop consuming a queue on"),
            ("S", "Shut down"),
            ("-", "Shrink the pool of"),
        ):
            pane.keys(key, literal=True)
            pane.wait_shown(words + SHOWN_HOST, what=f"the {key} dialog naming the worker")
            pane.keys("Escape")
            wait_for(
                lambda words=words: flat(words + SHOWN_HOST) not in pane.text(),
                10,
                what="dialog closed",
            )
        pane.keys("Enter")  # worker detail: the record, and inspect's stats naming the task
        pane.wait_shown(
            "hostname" + SHOWN_HOST,
            "done quit]" + hostile.SHOWN_TAIL,
            SHOWN_NAME,
            what="worker detail with inspect's replies",
        )
        pane.keys("Escape")  # (then wait: ESC and the next key at once read as alt+key)
        pane.wait_shown("1 of 1 online", what="back on the workers screen")

        pane.keys("2")
        pane.wait_shown("Tasks", "SUCCESS", what="the tasks screen")
        pane.keys("L")
        pane.wait_shown("Rate limit for" + SHOWN_NAME, what="the rate-limit prompt")
        pane.keys("Escape")
        wait_for(lambda: flat("Rate limit for") not in pane.text(), 10, what="prompt closed")
        pane.keys("Enter")  # task detail
        pane.wait_shown("name" + SHOWN_NAME, "worker" + SHOWN_HOST, what="task detail")
        pane.keys("Escape")
        pane.wait_shown("newest of", what="back on the tasks screen")
        pane.keys("R")  # re-run: the toasts name the task
        pane.wait_shown(
            "sent re-run" + SHOWN_NAME,
            "re-run" + SHOWN_NAME + "SUCCESS:",
            what="the re-run's toasts",
        )
        pane.keys("t")  # the picker lists what the worker registered
        pane.wait_shown("Send a task", "task name (type to filter)", what="the task picker")
        pane.keys("x[link", literal=True)
        pane.wait_shown("Send a task", SHOWN_NAME[:40], what="the picker listing the task")
        for _ in range(6):  # enter in name, args, kwargs sends; each waits for the focus to move
            if flat("Send a task") not in pane.text():
                break
            pane.keys("Enter")
            with contextlib.suppress(AssertionError):
                wait_for(lambda: flat("Send a task") not in pane.text(), 1.5, interval=0.1)
        pane.wait_shown("sent" + SHOWN_NAME, what="the picked task's toast")
        # the worker got it under its real name: the first send, the re-run, the pick
        wait_for(
            lambda: hostile.runs_logged(hostile_worker) == 3,
            20,
            interval=0.2,
            what="the worker to run the picked task",
        )
        pane.keys("q")
        wait_for(lambda: pane.show("#{pane_dead}") == "1", 15, what="celerytui to quit")
        assert pane.show("#{pane_title}") == TITLE
    finally:
        pane.close()
