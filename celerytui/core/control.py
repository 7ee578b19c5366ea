"""Controller: the remote-control and send-task calls the TUI and `fire` make.

Every call opens its own broker connection with a bounded connect (a closed or dead broker
fails within about the timeout, with a one-line, redacted error), waits at most ``timeout`` for
worker replies, and returns them per worker. Under ``read_only`` every call that changes the
cluster is refused before anything is sent; ping and inspect stay allowed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from celery import Celery

from celerytui import signing
from celerytui.cluster_spec import DISK_CHECK_TASK, EMAIL_TASK, HTTP_CHECK_TASK, order_chain
from celerytui.core.broker_errors import bounded_connection
from celerytui.redaction import one_line

INSPECT_METHODS = (
    "active",
    "reserved",
    "scheduled",
    "registered",
    "stats",
    "active_queues",
    "conf",
    "revoked",
)


class ControlError(Exception):
    """A control or send call failed: broker unreachable, bad input. One line, no secrets."""


class ReadOnlyError(ControlError):
    """A call that would change the cluster, refused because the monitor is read-only."""


class UnsignedError(ControlError):
    """A task or control message refused before sending: the cluster takes only signed
    messages and this monitor has no key to sign with (celerytui.signing)."""


@dataclass(slots=True)
class ControlResult:
    ok: bool
    replies: dict[str, Any] = field(default_factory=dict)  # {hostname: reply}
    error: str | None = None  # one line: no worker answered, or what a worker said


class ChainFired(str):
    """The id of a chain's LAST task (a str, so it is the chain's result), plus ``root_id``:
    the id of its first task."""

    root_id: str

    def __new__(cls, last_id: str, root_id: str) -> ChainFired:
        self = super().__new__(cls, last_id)
        self.root_id = root_id
        return self


F = TypeVar("F", bound=Callable[..., Any])


def mutating(method: F) -> F:
    """Refuse the call under read_only, before any connection is made."""

    @functools.wraps(method)
    def guarded(self: Controller, *args: Any, **kwargs: Any) -> Any:
        if self.read_only:
            raise ReadOnlyError(
                f"read-only mode: {method.__name__} refused (it would change the cluster)"
            )
        return method(self, *args, **kwargs)

    guarded.mutating = True  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


class Controller:
    """Remote control, inspect and send-task for one Celery app, each bounded by a timeout."""

    def __init__(self, app: Celery, *, read_only: bool = False, timeout: float = 1.0) -> None:
        self.app = app
        self.read_only = read_only
        self.timeout = timeout

    # --- connections -------------------------------------------------------------------

    def refuse_unsigned(self) -> None:
        """A signed cluster's workers drop unsigned messages (and log each one): refuse before
        anything is sent, with the one line that says what to configure."""
        refusal = signing.state_of(self.app).refusal
        if refusal is not None:
            raise UnsignedError(refusal)

    @property
    def can_ask(self) -> bool:
        """Whether workers will answer ping / inspect (False: signed cluster, no key)."""
        return signing.state_of(self.app).refusal is None

    def _connection(self) -> AbstractContextManager[Any]:
        """A connected broker connection, or ControlError within about the timeout."""
        return bounded_connection(self.app, self.timeout, write=True, error=ControlError)

    def _broadcast(
        self,
        command: str,
        arguments: dict[str, Any] | None = None,
        destination: str | list[str] | None = None,
        reply: bool = True,
        timeout: float | None = None,
    ) -> ControlResult:
        if isinstance(destination, str):
            destination = [destination]
        self.refuse_unsigned()
        timeout = self.timeout if timeout is None else timeout
        with self._connection() as conn:
            try:
                answers = self.app.control.broadcast(
                    command,
                    arguments=arguments or {},
                    destination=destination,
                    connection=conn,
                    reply=reply,
                    timeout=timeout,
                    limit=len(destination) if destination else None,
                )
            except ControlError:
                raise
            except Exception as exc:
                raise ControlError(f"{command} failed: {one_line(exc)}") from None
        if not reply:
            return ControlResult(ok=True)
        replies = _merge(answers)
        if not replies:
            return ControlResult(
                ok=False, error=f"{command}: no worker answered within {timeout:g}s"
            )
        errors = [
            f"{host}: {r['error']}"
            for host, r in replies.items()
            if isinstance(r, dict) and r.get("error")
        ]
        return ControlResult(
            ok=not errors, replies=replies, error="; ".join(errors)[:300] if errors else None
        )

    # --- remote control (mutating) -----------------------------------------------------

    @mutating
    def revoke(
        self, task_id: str, terminate: bool = False, signal: str = "SIGTERM"
    ) -> ControlResult:
        """Revoke on every worker (a revoke must reach whoever holds the task)."""
        return self._broadcast(
            "revoke", {"task_id": task_id, "terminate": terminate, "signal": signal}
        )

    @mutating
    def revoke_many(
        self, task_ids: list[str], terminate: bool = False, signal: str = "SIGTERM"
    ) -> ControlResult:
        """Revoke several tasks (a canvas's members) in one broadcast: every worker keeps the
        ids, so members still queued are dropped when they arrive; `terminate` also kills
        the pool processes running any of them."""
        ids = [t for t in task_ids if isinstance(t, str) and t]
        if not ids:
            raise ControlError("revoke: no task ids given")
        return self._broadcast("revoke", {"task_id": ids, "terminate": terminate, "signal": signal})

    @mutating
    def terminate(self, task_id: str, signal: str = "SIGTERM") -> ControlResult:
        """Revoke and kill the pool process running the task."""
        return self._broadcast("revoke", {"task_id": task_id, "terminate": True, "signal": signal})

    @mutating
    def rate_limit(
        self, task_name: str, rate: str | int | None, destination: str | list[str] | None = None
    ) -> ControlResult:
        return self._broadcast(
            "rate_limit", {"task_name": task_name, "rate_limit": rate}, destination
        )

    @mutating
    def time_limit(
        self,
        task_name: str,
        soft: float | None = None,
        hard: float | None = None,
        destination: str | list[str] | None = None,
    ) -> ControlResult:
        return self._broadcast(
            "time_limit", {"task_name": task_name, "soft": soft, "hard": hard}, destination
        )

    @mutating
    def pool_grow(self, hostname: str, n: int = 1) -> ControlResult:
        return self._broadcast("pool_grow", {"n": int(n)}, hostname)

    @mutating
    def pool_shrink(self, hostname: str, n: int = 1) -> ControlResult:
        return self._broadcast("pool_shrink", {"n": int(n)}, hostname)

    @mutating
    def autoscale(self, hostname: str, max: int, min: int) -> ControlResult:
        return self._broadcast("autoscale", {"max": int(max), "min": int(min)}, hostname)

    @mutating
    def add_consumer(self, hostname: str, queue: str) -> ControlResult:
        return self._broadcast("add_consumer", {"queue": queue}, hostname)

    @mutating
    def cancel_consumer(self, hostname: str, queue: str) -> ControlResult:
        return self._broadcast("cancel_consumer", {"queue": queue}, hostname)

    @mutating
    def shutdown(self, hostname: str) -> ControlResult:
        """Warm shutdown. Workers do not reply to it: ok means the command was sent."""
        return self._broadcast("shutdown", destination=hostname, reply=False)

    @mutating
    def pool_restart(self, hostname: str) -> ControlResult:
        """Needs the worker's worker_pool_restarts setting; otherwise the reply is an error."""
        return self._broadcast(
            "pool_restart", {"modules": None, "reload": False, "reloader": None}, hostname
        )

    @mutating
    def enable_events(self, destination: str | list[str] | None = None) -> ControlResult:
        return self._broadcast("enable_events", destination=destination)

    @mutating
    def disable_events(self, destination: str | list[str] | None = None) -> ControlResult:
        return self._broadcast("disable_events", destination=destination)

    @mutating
    def purge(self, queue: str) -> int:
        """Delete every message waiting in one queue; returns how many were deleted."""
        with self._connection() as conn:
            try:
                return int(conn.default_channel.queue_purge(queue) or 0)
            except Exception as exc:
                raise ControlError(f"purge {queue}: {one_line(exc)}") from None

    # --- read-only calls ---------------------------------------------------------------

    def ping(self, destination: str | list[str] | None = None) -> dict[str, dict[str, Any]]:
        """{hostname: {"ok": "pong"}} for every worker that answered ({} when none did).
        Calls naming their destinations return as soon as all of them answered. On a signed
        cluster without a key nothing is sent ({}): the workers would drop it."""
        if not self.can_ask:
            return {}
        return self._broadcast("ping", destination=destination).replies

    def inspect(self, method: str, destination: str | list[str] | None = None) -> dict[str, Any]:
        """{hostname: reply} for one inspect method ({} when no worker answered, and without
        sending anything on a signed cluster this monitor cannot sign for)."""
        if method not in INSPECT_METHODS:
            raise ControlError(
                f"unknown inspect method {method!r} (one of: {', '.join(INSPECT_METHODS)})"
            )
        if not self.can_ask:
            return {}
        if isinstance(destination, str):
            destination = [destination]
        with self._connection() as conn:
            try:
                inspector = self.app.control.inspect(
                    destination=destination,
                    timeout=self.timeout,
                    connection=conn,
                    limit=len(destination) if destination else None,
                )
                return getattr(inspector, method)() or {}
            except Exception as exc:
                raise ControlError(f"inspect {method}: {one_line(exc)}") from None

    # --- sending tasks (mutating) ------------------------------------------------------

    @mutating
    def send_task(
        self,
        name: str,
        args: Any = (),
        kwargs: Any = None,
        queue: str | None = None,
        countdown: float | None = None,
    ) -> str:
        """Send a task by name with JSON-able args; returns its id."""
        self.refuse_unsigned()
        args, kwargs = _checked_call(name, args, kwargs, countdown)
        options: dict[str, Any] = {}
        if queue:
            options["queue"] = queue
        with self._connection() as conn:
            try:
                result = self.app.send_task(
                    name,
                    args=args,
                    kwargs=kwargs,
                    countdown=countdown,
                    connection=conn,
                    retry_policy=_RETRY,
                    **options,
                )
            except Exception as exc:
                raise ControlError(f"send {name}: {one_line(exc)}") from None
        return str(result.id)

    @mutating
    def fire_http(self, url: str) -> str:
        return self.send_task(HTTP_CHECK_TASK, [url])

    @mutating
    def fire_disk(self, host: str) -> str:
        return self.send_task(DISK_CHECK_TASK, [host])

    @mutating
    def fire_email(self, to: str, content: str) -> str:
        return self.send_task(EMAIL_TASK, [to, content])

    @mutating
    def fire_order(self, order_id: Any) -> ChainFired:
        """Send validate_order -> process_payment -> ship_order, built by name (works from a
        client that does not import the tasks). Returns the last task's id; .root_id is the
        first's."""
        self.refuse_unsigned()
        _checked_call("fire_order", [order_id], None, None)
        canvas = order_chain(self.app, order_id)
        with self._connection() as conn:
            try:
                last = canvas.apply_async(connection=conn, retry_policy=_RETRY)
            except Exception as exc:
                raise ControlError(f"fire order {order_id!r}: {one_line(exc)}") from None
        root = last
        while root.parent is not None:
            root = root.parent
        return ChainFired(str(last.id), str(root.id))


_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def mutating_methods() -> list[str]:
    """Names of the Controller methods read_only refuses (the tests go over every one)."""
    return sorted(
        name for name, value in vars(Controller).items() if getattr(value, "mutating", False)
    )


def _checked_call(
    name: Any, args: Any, kwargs: Any, countdown: Any
) -> tuple[list[Any], dict[str, Any]]:
    if not isinstance(name, str) or not name.strip():
        raise ControlError("task name must be a non-empty string")
    if isinstance(args, tuple):
        args = list(args)
    if not isinstance(args, list):
        raise ControlError(f"args must be a JSON list, not {type(args).__name__}")
    kwargs = {} if kwargs is None else kwargs
    if not isinstance(kwargs, dict):
        raise ControlError(f"kwargs must be a JSON object, not {type(kwargs).__name__}")
    if countdown is not None and not isinstance(countdown, int | float):
        raise ControlError(f"countdown must be a number of seconds, not {countdown!r}")
    try:
        json.dumps([args, kwargs])
    except (TypeError, ValueError) as exc:
        raise ControlError(f"args/kwargs are not JSON: {exc}") from None
    return args, kwargs


def _merge(answers: list[dict[str, Any]] | None) -> dict[str, Any]:
    replies: dict[str, Any] = {}
    for answer in answers or ():
        if isinstance(answer, dict):
            replies.update(answer)
    return replies
