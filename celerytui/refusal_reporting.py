"""The worker side's report of task messages it refused: a ``task-rejected`` event.

Stock Celery only logs a message it will not run: "Received invalid task message" (an unsigned
message under ``accept_content = ["auth"]``: ContentDisallowed, signal ``task_rejected``) or
"Can't decode message body" (a signature that does not verify, or a signer outside the store:
no signal at all), and sends no event, so a monitor never hears of it. celerytui's workers run
this consumer on a signed cluster (celerytui.tasks sets ``worker_consumer``) and send a
``task-rejected`` event with the task's name and why, which the Tasks and Failures screens show.
The message itself is still refused and acknowledged exactly as Celery does.

One more refusal Celery lacks: kombu lets the "raw" content types (application/text, and
application/data without a signature) past any accept list, and a task message carrying one
ends the worker ("Unrecoverable error: ValueError", the message restored for the next worker
to die on). Anyone who can write to the broker could stop a signed cluster that way, so this
consumer refuses every task message whose content type the worker does not accept before
Celery reads its body.
"""

from __future__ import annotations

import contextlib
from typing import Any

from celery.worker.consumer import Consumer
from kombu.exceptions import ContentDisallowed
from kombu.serialization import prepare_accept_content

from celerytui.redaction import one_line


class RefusalReportingConsumer(Consumer):  # type: ignore[misc]
    """Celery's consumer, plus a task-rejected event for each task message it refuses."""

    def create_task_handler(self, *args: Any, **kwargs: Any) -> Any:
        handle = super().create_task_handler(*args, **kwargs)
        accepted = prepare_accept_content(self.app.conf.accept_content)

        def on_task_received(message: Any) -> Any:
            content_type = message.content_type or "application/data"  # kombu's reading
            if content_type not in accepted:
                refused = ContentDisallowed(
                    f"Refusing to deserialize untrusted content of type {content_type}"
                )
                return self.on_invalid_task(None, message, refused)
            return handle(message)

        return on_task_received

    def on_invalid_task(self, body: Any, message: Any, exc: Exception) -> None:
        super().on_invalid_task(body, message, exc)
        self._report(message, "not signed", exc)

    def on_decode_error(self, message: Any, exc: Exception) -> None:
        super().on_decode_error(message, exc)
        self._report(message, "signature refused", exc)

    def _report(self, message: Any, what: str, exc: Exception) -> None:
        headers = getattr(message, "headers", None)
        if not isinstance(headers, dict):
            return
        task_id, name = headers.get("id"), headers.get("task")
        if not isinstance(task_id, str) or not isinstance(name, str):
            return  # a remote-control message (pidbox shares this handler), not a task
        dispatcher = getattr(self, "event_dispatcher", None)
        if dispatcher is None or not dispatcher.enabled:
            return
        with contextlib.suppress(Exception):  # reporting must never stop the consumer
            dispatcher.send(
                "task-rejected",
                uuid=task_id,
                requeue=False,
                name=name,
                exception=f"refused, {what}: {one_line(exc, with_type=True, limit=240)}",
            )
