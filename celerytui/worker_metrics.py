"""The seed's worker-side Prometheus counters, made correct under the prefork pool.

The article creates Counters at import and increments them in task signals: under prefork each
pool child counts alone and the HTTP server sees none of it. Here the worker's main process,
before it forks the pool, switches prometheus_client to multiprocess mode (a fresh
PROMETHEUS_MULTIPROC_DIR), and serves the sum over every child with MultiProcessCollector.
Nothing happens unless settings.worker_metrics_port is set.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Any

from celery import signals

log = logging.getLogger(__name__)

STARTED_METRIC = "celerytui_worker_tasks_started"  # exposed as ..._total
FAILED_METRIC = "celerytui_worker_tasks_failed"

_state: dict[str, Any] = {"enabled": False, "dir": None, "counters": None, "owns_dir": False}


def install() -> None:
    """Connect the signal handlers (idempotent: dispatch_uid)."""
    signals.celeryd_init.connect(_on_worker_init, weak=False, dispatch_uid="celerytui.metrics")
    signals.task_prerun.connect(_on_task_prerun, weak=False, dispatch_uid="celerytui.m.start")
    signals.task_failure.connect(_on_task_failure, weak=False, dispatch_uid="celerytui.m.fail")
    signals.worker_shutdown.connect(
        _on_worker_shutdown, weak=False, dispatch_uid="celerytui.m.stop"
    )


def start_metrics_server(port: int, addr: str = "0.0.0.0") -> str:
    """Switch this process (and the children it forks later) to multiprocess mode and serve
    the summed counters on port. Returns the directory the children write to."""
    from prometheus_client import CollectorRegistry, start_http_server, values
    from prometheus_client.multiprocess import MultiProcessCollector

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and os.path.isdir(directory):
        for name in os.listdir(directory):  # stale files from a previous run would add up
            if name.endswith(".db"):
                os.unlink(os.path.join(directory, name))
    else:
        directory = tempfile.mkdtemp(prefix="celerytui-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        _state["owns_dir"] = True
    # prometheus_client picks its value class at import; it may have been imported before
    # the directory existed, so pick again now, before any counter is made or a child forked.
    values.ValueClass = values.get_value_class()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    start_http_server(port, addr=addr, registry=registry)
    _state.update(enabled=True, dir=directory)
    return directory


def _counters():
    if _state["counters"] is None:
        from prometheus_client import Counter

        _state["counters"] = (
            Counter(STARTED_METRIC, "Tasks started by this worker", ["name"], registry=None),
            Counter(FAILED_METRIC, "Tasks failed on this worker", ["name"], registry=None),
        )
    return _state["counters"]


def _on_worker_init(sender=None, instance=None, **_: Any) -> None:
    app = getattr(instance, "app", None)
    settings = getattr(app, "celerytui_settings", None)
    port = getattr(settings, "worker_metrics_port", None)
    if not port:
        return
    try:
        directory = start_metrics_server(int(port))
    except OSError as exc:
        log.error("worker metrics not served on port %s: %s", port, exc.strerror or exc)
        return
    log.info("worker metrics on :%s/metrics (multiprocess dir %s)", port, directory)


def _on_task_prerun(sender=None, **_: Any) -> None:
    if _state["enabled"]:
        _counters()[0].labels(name=getattr(sender, "name", "unknown")).inc()


def _on_task_failure(sender=None, **_: Any) -> None:
    if _state["enabled"]:
        _counters()[1].labels(name=getattr(sender, "name", "unknown")).inc()


def _on_worker_shutdown(**_: Any) -> None:
    if _state["owns_dir"] and _state["dir"]:
        shutil.rmtree(_state["dir"], ignore_errors=True)
