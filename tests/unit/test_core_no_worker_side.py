"""A monitor process is not a worker: importing the core and building the app the monitor
watches with (the TUI, the exporter, `status`, `tail`, `fire`) imports none of the worker side
and connects none of its Celery signal handlers (the failure webhook, the worker metrics) —
while that app still knows the seed's task names, so h / d / o / e stay offered."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.commands import ROOT, command_env

PROBE = """
import importlib, json, pkgutil, sys, weakref

import celery.signals
from celery.utils.dispatch.signal import Signal

import celerytui.core

WORKER_SIDE = ("celerytui.tasks", "celerytui.checks", "celerytui.worker_metrics", "paramiko")


def celerytui_receivers():
    found = {}
    for name, signal in sorted(vars(celery.signals).items()):
        if not isinstance(signal, Signal):
            continue
        for _key, receiver in signal.receivers:
            if isinstance(receiver, weakref.ReferenceType):
                receiver = receiver()
            func = getattr(receiver, "__func__", receiver)
            module = getattr(func, "__module__", "") or ""
            if module.startswith("celerytui"):
                found.setdefault(name, []).append(f"{module}.{func.__qualname__}")
    return found


for module in pkgutil.walk_packages(celerytui.core.__path__, "celerytui.core."):
    importlib.import_module(module.name)

from celerytui.commands.app_loader import load_app
from celerytui.config import load_settings
from celerytui.core.monitor import Monitor, client_app
from celerytui.core.seed_tasks import SEED_TASKS, unregistered_seed_tasks

settings = load_settings(broker_url="redis://127.0.0.1:1/0",
                         result_backend="redis://127.0.0.1:1/1")
apps = [client_app(settings), load_app(settings), Monitor(settings).app]
report = {
    "loaded": [name for name in WORKER_SIDE if name in sys.modules],
    "receivers": celerytui_receivers(),
    "unregistered": sorted({name for app in apps for kind in SEED_TASKS
                            for name in unregistered_seed_tasks(app, kind)}),
    "broker": [app.conf.broker_url for app in apps],
    "queues": [sorted(q.name for q in app.conf.task_queues) for app in apps],
}
import celerytui.tasks  # the worker side, for contrast: the probe sees its handlers
report["worker_receivers"] = celerytui_receivers()
print(json.dumps(report))
"""


def test_importing_the_core_and_its_client_app_installs_no_worker_side():
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        env=command_env(),
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["loaded"] == []
    assert report["receivers"] == {}
    # the monitor's app still knows every seed task (the keys stay offered), queues and broker
    assert report["unregistered"] == []
    assert report["broker"] == ["redis://127.0.0.1:1/0"] * 3
    assert report["queues"] == [["celery", "disk", "http", "secure"]] * 3
    # the probe is not blind: the worker side's handlers are found once it is imported
    worker = report["worker_receivers"]
    assert worker["task_failure"] == [
        "celerytui.tasks.alert_on_failure",
        "celerytui.worker_metrics._on_task_failure",
    ]
    assert {"celeryd_init", "task_prerun", "worker_shutdown"} <= set(worker)
