"""What the worker side and the monitor agree on: the seed cluster's task names, queues, routes,
beat schedule and Celery configuration.

Both sides import this module: ``celerytui.tasks`` (the worker side) registers the task bodies
on an app ``configure`` made, and ``core.monitor.client_app`` (the monitor) declares the same
names with ``declare_tasks``, so the monitor can send and list them without importing the
worker side. Nothing here connects a Celery signal or imports requests, paramiko or the
worker metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Celery, chain
from celery.canvas import Signature
from celery.schedules import crontab
from kombu import Queue

from celerytui import signing
from celerytui.config import Settings

PREFIX = "celerytui.tasks."
# the seed's tasks by short name: registered as PREFIX + name, and module attributes of
# celerytui.tasks (`from celerytui.tasks import send_email`)
TASK_NAMES = (
    "send_email",
    "validate_order",
    "process_payment",
    "ship_order",
    "order_pipeline",
    "risky_operation",
    "check_http_endpoint",
    "check_disk_usage",
)
EMAIL_TASK = PREFIX + "send_email"
ORDER_TASKS = (PREFIX + "validate_order", PREFIX + "process_payment", PREFIX + "ship_order")
ORDER_PIPELINE_TASK = PREFIX + "order_pipeline"
RISKY_TASK = PREFIX + "risky_operation"
HTTP_CHECK_TASK = PREFIX + "check_http_endpoint"
DISK_CHECK_TASK = PREFIX + "check_disk_usage"
LOCAL_HOST = "local"  # disk host name that means "this machine, no SSH"

QUEUES = ("celery", "http", "disk", "secure")
TASK_ROUTES = {
    HTTP_CHECK_TASK: {"queue": "http"},
    DISK_CHECK_TASK: {"queue": "disk"},
    "critical_tasks.*": {"queue": "secure"},
}


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The seed's schedule: each HTTP target every 5 minutes, each disk host daily at 03:00."""
    schedule: dict[str, dict[str, Any]] = {}
    for url in settings.http_targets:
        schedule[f"http-check {url}"] = {
            "task": HTTP_CHECK_TASK,
            "schedule": crontab(minute="*/5"),
            "args": (url,),
        }
    for host in settings.disk_hosts:
        schedule[f"disk-check {host.name}"] = {
            "task": DISK_CHECK_TASK,
            "schedule": crontab(hour=3, minute=0),
            "args": (host.name,),
        }
    return schedule


def configure(app: Celery, settings: Settings, *, worker: bool = False) -> Celery:
    """Give ``app`` the seed's configuration (JSON only, task events, extended results, the
    queues, routes and beat schedule) and remember ``settings`` on it (``settings_of``).
    When the settings name a signing key, task and control messages are signed instead of
    JSON (celerytui.signing; a ``worker`` must be able to sign). Broker and backend URLs are
    the caller's (``core.app_urls.pin_urls``). Returns ``app``."""
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone=settings.timezone or "UTC",
        enable_utc=True,
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_track_started=True,
        result_extended=True,
        result_expires=settings.result_expires,
        broker_connection_retry_on_startup=True,
        task_default_queue="celery",
        task_queues=[Queue(name, routing_key=name) for name in QUEUES],
        task_routes=TASK_ROUTES,
        beat_schedule=beat_schedule(settings),
    )
    app.celerytui_settings = settings
    signing.configure(app, settings, worker=worker)
    return app


def settings_of(app: Celery | None) -> Settings | None:
    """The Settings an app was configured with; None for an app ``configure`` did not see."""
    return getattr(app, "celerytui_settings", None)


def declare_tasks(app: Celery) -> Celery:
    """Register the seed's task names on ``app`` without their bodies, which live on the worker
    side: ``app.tasks`` lists them and ``send_task`` / ``.delay()`` send them to the workers,
    but running one in this process raises. Returns ``app``."""
    for name in TASK_NAMES:
        app.task(name=PREFIX + name, shared=False)(_runs_on_a_worker(PREFIX + name))
    return app


def _runs_on_a_worker(name: str) -> Callable[..., Any]:
    def declared(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{name} runs on a worker (celery -A celerytui.tasks worker), not in the monitor's app"
        )

    declared.__name__ = name.rsplit(".", 1)[1]
    return declared


def order_chain(app: Celery, order_id: Any) -> Signature:
    """The seed's order pipeline, validate -> pay -> ship, as a chain not yet sent."""
    first, *rest = ORDER_TASKS
    return chain(app.signature(first, args=(order_id,)), *(app.signature(name) for name in rest))
