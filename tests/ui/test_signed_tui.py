"""The dashboard on a signed cluster without a key: the header says so, signed tasks show as
they run, a message the worker refused shows on the Failures screen with why, and the keys
that send tasks answer with one line instead of a prompt.

This process never signs (no key): Celery's setup_security would change kombu's global
registry for the whole test session. The signed tasks come from a `celerytui fire`
subprocess that has the monitor's key.
"""

from __future__ import annotations

import asyncio

import pytest
import redis

from celerytui.app import make_app
from celerytui.config import load_settings
from celerytui.screens.dialogs import PromptDialog
from tests.support.certs import make_cluster_keys
from tests.support.commands import celerytui, command_env
from tests.support.services import wait_for
from tests.support.workers import WorkerProcess
from tests.ui.conftest import wait_until
from tests.ui.screen_text import screen_text

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def signed_cluster(redis_target, tmp_path_factory):
    """(broker, backend, keys, worker): one worker that takes only signed messages."""
    broker_db, backend_db = redis_target.fresh_dbs(2)
    broker, backend = redis_target.url(broker_db), redis_target.url(backend_db)
    keys = make_cluster_keys(tmp_path_factory.mktemp("signed-keys"))
    worker = WorkerProcess(
        broker,
        backend,
        tmp_path_factory.mktemp("signed-ui"),
        name="sui",
        extra_env=keys.env("worker"),
    )
    try:
        worker.start()
        wait_for(
            lambda: worker.proc.poll() is not None or " ready." in worker.log_tail(200),
            timeout=40,
            interval=0.2,
            what="the signed worker to be ready",
        )
        assert worker.proc.poll() is None, worker.log_tail()
        yield broker, backend, keys, worker
    finally:
        worker.stop()


async def test_keyless_dashboard_watches_shows_refusals_and_refuses_to_fire(signed_cluster):
    from celerytui.tasks import make_celery_app

    broker, backend, keys, _worker = signed_cluster
    settings = load_settings(broker_url=broker, result_backend=backend, signed=True)
    app = make_app(settings)
    plain = make_celery_app(load_settings(broker_url=broker, result_backend=backend))
    try:
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            header = await wait_until(
                pilot,
                lambda: (
                    "connected" in screen_text(app).splitlines()[0]
                    and screen_text(app).splitlines()[0]
                ),
                what="header to say connected",
            )
            assert "signed, no key" in header

            # a signed task from a process with the key: shown as it runs, to SUCCESS
            fired = await asyncio.to_thread(
                celerytui,
                "fire",
                "email",
                "signed@example.com",
                "hello",
                "--wait",
                "-b",
                broker,
                "--result-backend",
                backend,
                env=command_env(**keys.env("monitor")),
                timeout=40,
            )

            assert fired.returncode == 0, fired.stderr
            await pilot.press("2")
            await wait_until(
                pilot,
                lambda: any(
                    "signed@example" in line and "SUCCESS" in line
                    for line in screen_text(app).splitlines()
                ),
                what="the signed task's SUCCESS row on the Tasks screen",
            )

            # an unsigned message: the worker refuses it and says so; Failures shows it
            refused = plain.send_task(
                "celerytui.tasks.send_email", args=["x@example.com", "unsigned"], queue="celery"
            )
            await pilot.press("3")
            row = await wait_until(
                pilot,
                lambda: next(
                    (
                        line
                        for line in screen_text(app).splitlines()
                        if "send_email" in line and "REJECTED" in line
                    ),
                    None,
                ),
                what="the refused message on the Failures screen",
            )
            assert "sui@celer" in row and "refused, not signed" in row
            await wait_until(
                pilot,
                lambda: "1 rejected" in screen_text(app),
                what="the Failures screen's count of rejected",
            )
            with app.monitor.lock:
                assert app.monitor.state.tasks[refused.id].exception.startswith(
                    "refused, not signed: ContentDisallowed"
                )

            # the keys that send tasks: one line, no prompt, nothing sent
            await pilot.press("1")
            for key in ("e", "o", "t"):
                await pilot.press(key)
                await wait_until(
                    pilot,
                    lambda: (
                        "cannot sign" in screen_text(app)
                        and "refused, nothing sent" in screen_text(app)
                    ),
                    what=f"{key}: the signing refusal",
                )
                assert not isinstance(app.screen, PromptDialog)
                app.clear_notifications()
            assert redis.Redis.from_url(broker).llen("celery") == 0
    finally:
        plain.close()
