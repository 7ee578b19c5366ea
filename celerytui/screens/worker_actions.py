"""Pool grow / shrink / autoscale, add / cancel consumer and shutdown for the selected worker:
shared by the Workers screen and Worker detail. Destructive ones ask first; all are hidden and
refused under --read-only."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

from celerytui.screens.dialogs import ConfirmDialog, PromptDialog
from celerytui.screens.read_only import MUTATING_ACTIONS, ReadOnlyKeys

WORKER_ACTION_BINDINGS = [
    Binding("plus", "pool_grow", "Grow", id="worker-grow", key_display="+"),
    Binding("minus", "pool_shrink", "Shrink", id="worker-shrink", key_display="-"),
    Binding("a", "autoscale", "Autoscale", id="worker-autoscale"),
    Binding("c", "add_consumer", "Consume", id="worker-add-consumer"),
    Binding("C", "cancel_consumer", "Cancel consumer", id="worker-cancel-consumer"),
    Binding("S", "shutdown_worker", "Shutdown", id="worker-shutdown"),
]


def _whole_numbers(values: dict[str, str]) -> str | None:
    try:
        high, low = int(values.get("max", "")), int(values.get("min", ""))
    except ValueError:
        return "max and min must be whole numbers"
    if low < 0 or high < low:
        return "need 0 <= min <= max"
    return None


def _queue_named(values: dict[str, str]) -> str | None:
    return None if values.get("queue", "").strip() else "queue is required"


class WorkerActions(ReadOnlyKeys):
    """The remote-control keys of a screen that has a selected worker."""

    def selected_worker(self) -> str | None:  # pragma: no cover - screens override
        return None

    def _worker(self, action: str) -> str | None:
        hostname = self.selected_worker()
        if hostname is None:
            self.app.notify("no worker selected", severity="warning")
            return None
        if self.app.refuse_if_read_only(MUTATING_ACTIONS[action]):
            return None
        return hostname

    def _call(self, method: str, hostname: str, *args: Any, label: str) -> None:
        self.app.controller_call(
            method, hostname, *args, label=label, on_done=lambda r: self._reported(label, r)
        )

    def _reported(self, label: str, result: Any) -> None:
        if getattr(result, "ok", False):
            replies = getattr(result, "replies", {}) or {}
            said = "; ".join(
                str(r.get("ok", r)) if isinstance(r, dict) else str(r) for r in replies.values()
            )
            self.app.notify(f"{label}: {said or 'sent'}"[:200], markup=False)
        else:
            self.app.notify(
                f"{label}: {getattr(result, 'error', None) or 'no reply'}",
                severity="error",
                markup=False,
            )

    def _confirm(self, question: str, then) -> None:
        self.app.push_screen(ConfirmDialog(question), lambda yes: yes and then())

    def action_pool_grow(self) -> None:
        hostname = self._worker("pool_grow")
        if hostname:
            self._call("pool_grow", hostname, 1, label=f"pool grow {hostname}")

    def action_pool_shrink(self) -> None:
        hostname = self._worker("pool_shrink")
        if hostname:
            self._confirm(
                f"Shrink the pool of {hostname} by one process?",
                lambda: self._call("pool_shrink", hostname, 1, label=f"pool shrink {hostname}"),
            )

    def action_autoscale(self) -> None:
        hostname = self._worker("autoscale")
        if not hostname:
            return

        def answered(values: dict[str, str] | None) -> None:
            if values:
                self._call(
                    "autoscale",
                    hostname,
                    int(values["max"]),
                    int(values["min"]),
                    label=f"autoscale {hostname}",
                )

        self.app.push_screen(
            PromptDialog(
                f"Autoscale {hostname}",
                [("max", "Max processes", "4"), ("min", "Min processes", "1")],
                validate=_whole_numbers,
            ),
            answered,
        )

    def action_add_consumer(self) -> None:
        hostname = self._worker("add_consumer")
        if not hostname:
            return

        def answered(values: dict[str, str] | None) -> None:
            if values:
                queue = values["queue"]
                self._call(
                    "add_consumer", hostname, queue, label=f"add consumer {queue} on {hostname}"
                )

        self.app.push_screen(
            PromptDialog(
                f"Consume a queue on {hostname}", [("queue", "Queue", "")], validate=_queue_named
            ),
            answered,
        )

    def action_cancel_consumer(self) -> None:
        hostname = self._worker("cancel_consumer")
        if not hostname:
            return

        def answered(values: dict[str, str] | None) -> None:
            if values:
                queue = values["queue"]
                self._confirm(
                    f"Stop {hostname} consuming from {queue}?",
                    lambda: self._call(
                        "cancel_consumer",
                        hostname,
                        queue,
                        label=f"cancel consumer {queue} on {hostname}",
                    ),
                )

        self.app.push_screen(
            PromptDialog(
                f"Stop consuming a queue on {hostname}",
                [("queue", "Queue", "")],
                validate=_queue_named,
            ),
            answered,
        )

    def action_shutdown_worker(self) -> None:
        hostname = self._worker("shutdown_worker")
        if hostname:
            self._confirm(
                f"Shut down {hostname} (warm shutdown)?",
                lambda: self._call("shutdown", hostname, label=f"shutdown {hostname}"),
            )
