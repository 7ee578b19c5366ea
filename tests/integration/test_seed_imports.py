"""The seed article's quick check works as written: import a task, `.delay(...)`, `.get()`."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.commands import ROOT, command_env

QUICK_CHECK = """
import json
from celery import chain

import celerytui.tasks
from celerytui.tasks import (app, check_disk_usage, check_http_endpoint, order_pipeline,
                             process_payment, risky_operation, send_email, ship_order,
                             validate_order)

tasks = [send_email, validate_order, process_payment, ship_order, order_pipeline,
         risky_operation, check_http_endpoint, check_disk_usage]
shipped = chain(validate_order.s(7), process_payment.s(), ship_order.s()).delay()
print(json.dumps({
    "email": send_email.delay("ops@example.com", "disk nearly full").get(timeout=30),
    "risky": risky_operation.delay(fail_times=1).get(timeout=30),
    "shipped": shipped.get(timeout=30)["status"],
    "names": [task.name for task in tasks],
    "one_app": all(task.app is app for task in tasks) and celerytui.tasks.app is app,
}))
"""


def test_seed_tasks_import_and_run_as_in_the_article(redis_urls, start_worker):
    broker, backend = redis_urls
    start_worker("w1")
    env = command_env(
        CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=backend, CELERYTUI_RETRY_BASE="0.1"
    )
    run = subprocess.run(
        [sys.executable, "-c", QUICK_CHECK],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout)
    assert out["email"] == "Email to ops@example.com sent: disk nearly full..."
    assert out["risky"] == {"attempts": 2, "retries": 1}
    assert out["shipped"] == "shipped"
    assert out["names"] == [
        f"celerytui.tasks.{name}"
        for name in (
            "send_email",
            "validate_order",
            "process_payment",
            "ship_order",
            "order_pipeline",
            "risky_operation",
            "check_http_endpoint",
            "check_disk_usage",
        )
    ]
    assert out["one_app"] is True


def test_an_unknown_name_is_still_an_import_error():
    run = subprocess.run(
        [sys.executable, "-c", "from celerytui.tasks import send_mail"],
        capture_output=True,
        text=True,
        timeout=30,
        env=command_env(),
        cwd=ROOT,
    )
    assert run.returncode == 1
    assert "ImportError: cannot import name 'send_mail' from 'celerytui.tasks'" in run.stderr
