"""The worker side: the seed article's Celery app, its task bodies, the failure alert and the
worker metrics (signal handlers, connected on import).

Run it with ``celery -A celerytui.tasks worker -E -Q celery,http,disk`` and
``celery -A celerytui.tasks beat``. ``make_celery_app(settings)`` builds a fresh app with every
task registered on it (tests build their own, on their own broker); the module-level ``app``
is built from the environment / config file. Names, queues, routes, the beat schedule and the
Celery configuration are shared with the monitor: ``celerytui.cluster_spec``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from celery import Celery, signals

from celerytui import checks, signing
from celerytui.cluster_spec import (
    DISK_CHECK_TASK,
    HTTP_CHECK_TASK,
    PREFIX,
    TASK_NAMES,
    configure,
    order_chain,
    settings_of,
)

# shared with the monitor, still importable from here: `from celerytui.tasks import beat_schedule`
from celerytui.cluster_spec import QUEUES as QUEUES
from celerytui.cluster_spec import TASK_ROUTES as TASK_ROUTES
from celerytui.cluster_spec import beat_schedule as beat_schedule
from celerytui.config import ConfigError, Settings, load_settings
from celerytui.core.app_urls import pin_urls
from celerytui.redaction import one_line, redact_webhook, webhook_secrets

log = logging.getLogger(__name__)


def make_celery_app(settings: Settings) -> Celery:
    """A Celery app configured from settings (cluster_spec.configure), with the seed's tasks
    registered on it."""
    app = Celery(
        "celerytui",
        broker=settings.broker_url,
        backend=settings.result_backend,
        set_as_current=False,
    )
    configure(app, settings, worker=True)
    if signing.state_of(app).signed:  # report refused messages as task-rejected events
        app.conf.worker_consumer = "celerytui.refusal_reporting:RefusalReportingConsumer"
    # the settings already weighed $CELERY_BROKER_URL / $CELERY_RESULT_BACKEND against the
    # config file and flags: Celery must not read them again over our answer
    pin_urls(app, settings.broker_url, settings.result_backend)
    _register_tasks(app)
    return app


def _register_tasks(app: Celery) -> None:
    """Define the tasks on this app only (shared=False: other apps in the process keep theirs)."""

    def conf(task) -> Settings:
        return settings_of(task.app) or Settings()

    @app.task(name=PREFIX + "send_email", bind=True, shared=False)
    def send_email(self, to: str, content: str) -> str:
        """Simulated slow e-mail: sleeps settings.email_delay seconds."""
        time.sleep(conf(self).email_delay)
        return f"Email to {to} sent: {str(content)[:20]}..."

    @app.task(name=PREFIX + "validate_order", shared=False)
    def validate_order(order_id: Any) -> dict[str, Any]:
        if order_id is None or str(order_id).strip() == "":
            raise ValueError("order_id is empty")
        return {"order_id": order_id, "status": "validated"}

    @app.task(name=PREFIX + "process_payment", shared=False)
    def process_payment(order_info: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(order_info, dict) or "order_id" not in order_info:
            raise ValueError("process_payment needs the dict validate_order returns")
        return {**order_info, "status": "paid", "paid": True}

    @app.task(name=PREFIX + "ship_order", shared=False)
    def ship_order(payment_result: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(payment_result, dict) or not payment_result.get("paid"):
            raise ValueError("ship_order needs a paid order")
        tracking_no = f"CT{uuid.uuid4().hex[:10].upper()}"
        return {**payment_result, "status": "shipped", "tracking_no": tracking_no}

    @app.task(name=PREFIX + "order_pipeline", bind=True, shared=False)
    def order_pipeline(self, order_id: Any) -> str:
        """Send the order chain; returns the id of its last task (ship_order), whose result
        is the shipped order. (A task must not wait on other tasks, so it does not .get().)"""
        return order_chain(self.app, order_id).apply_async().id

    @app.task(name=PREFIX + "risky_operation", bind=True, max_retries=3, shared=False)
    def risky_operation(self, fail_times: int = 1) -> dict[str, Any]:
        """Fails its first `fail_times` runs, retrying with countdown retry_base * 2**retries:
        fail_times <= 3 ends in SUCCESS after retries, more ends in FAILURE."""
        retries = self.request.retries
        if retries < int(fail_times):
            exc = RuntimeError(f"risky_operation failed on attempt {retries + 1}")
            raise self.retry(exc=exc, countdown=conf(self).retry_base * 2**retries)
        return {"attempts": retries + 1, "retries": retries}

    @app.task(name=HTTP_CHECK_TASK, bind=True, shared=False)
    def check_http_endpoint(self, url: str) -> dict[str, Any]:
        return checks.probe_http(url, timeout=conf(self).http_timeout)

    @app.task(name=DISK_CHECK_TASK, bind=True, shared=False)
    def check_disk_usage(self, host: str, path: str | None = None) -> dict[str, Any]:
        """df on a configured host; `path` defaults to the host's configured path ("/")."""
        return checks.probe_disk(conf(self).disk_hosts, host, path)


@signals.task_failure.connect(weak=False, dispatch_uid="celerytui.alert_on_failure")
def alert_on_failure(
    sender=None, task_id=None, exception=None, args=None, kwargs=None, **_: Any
) -> None:
    """POST a failure alert to settings.alert_webhook; a dead webhook is only logged."""
    settings = settings_of(getattr(sender, "app", None))
    if settings is None or not settings.alert_webhook:
        return
    payload = {
        "task": getattr(sender, "name", None),
        "task_id": task_id,
        "exception": f"{type(exception).__name__}: {exception}" if exception else None,
        "args": _jsonable(list(args or ())),
        "kwargs": _jsonable(dict(kwargs or {})),
        "hostname": getattr(getattr(sender, "request", None), "hostname", None),
        "time": datetime.now(UTC).isoformat(),
    }
    url = settings.alert_webhook
    problem: str | Exception | None
    try:
        import requests

        resp = requests.post(url, json=payload, timeout=settings.alert_timeout)
        problem = None if resp.ok else f"HTTP {resp.status_code} {resp.reason or ''}".strip()
    except Exception as exc:  # never let the alert break the worker
        problem = exc
    if problem is not None:  # the hook's path is its token: only its host is ever logged
        log.warning(
            "failure alert for %s not delivered to %s: %s",
            task_id,
            redact_webhook(url),
            one_line(problem, with_type=True, secrets=webhook_secrets(url)),
        )


def _jsonable(value: Any) -> Any:
    """value made JSON-safe (anything odd becomes its repr), so the alert POST cannot fail on it."""
    return json.loads(json.dumps(value, default=repr))


def __getattr__(name: str) -> Any:
    """The module-level ``app`` (for ``celery -A celerytui.tasks``) and its seed tasks
    (``send_email.delay(...)``), built on first use from the config file and environment, so
    importing make_celery_app never reads them.
    A bad setting ends the process with its one-line message, not a traceback."""
    if name in TASK_NAMES:
        return _module_app().tasks[PREFIX + name]
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _module_app()


def _module_app() -> Celery:
    built = globals().get("app")
    if built is None:
        try:
            built = make_celery_app(load_settings())
        except ConfigError as exc:
            raise SystemExit(f"celerytui: bad configuration: {exc}") from None
        globals()["app"] = built
    return built


def __dir__() -> list[str]:
    return sorted({*globals(), "app", *TASK_NAMES})


# Prometheus counters for the worker (served only when settings.worker_metrics_port is set).
from celerytui import worker_metrics  # noqa: E402

worker_metrics.install()
