"""Revoke, terminate and rate-limit the selected task: shared by Tasks, Failures, Task detail.

A screen mixes ``TaskActions`` in, adds ``TASK_ACTION_BINDINGS`` to its BINDINGS and provides
``selected_task()``. Under --read-only the bindings are hidden and a press of their key gets a
notice instead of an action (``celerytui.screens.read_only``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from celerytui.core.model import READY_STATES
from celerytui.screens.dialogs import ConfirmDialog, PromptDialog
from celerytui.screens.read_only import MUTATING_ACTIONS, ReadOnlyKeys

if TYPE_CHECKING:
    from celerytui.screens import ClusterScreen as _Screen
else:
    _Screen = object

TASK_ACTION_BINDINGS = [
    Binding("x", "revoke_task", "Revoke", id="task-revoke"),
    Binding("X", "terminate_task", "Terminate", id="task-terminate"),
    Binding("L", "rate_limit_task", "Rate limit", id="task-rate-limit"),
]
_RATE = re.compile(r"^\d+(\.\d+)?(/[smh])?$")


def validate_rate(values: dict[str, str]) -> str | None:
    """``10/m``, ``5/s``, ``100/h`` or a plain number (per second); ``0`` removes the limit."""
    rate = values.get("rate", "").strip()
    if not _RATE.match(rate):
        return "rate must look like 10/m, 5/s, 100/h or 0 (no limit)"
    return None


class TaskActions(ReadOnlyKeys):
    """x / X / L on the task ``selected_task()`` names."""

    def selected_task(self) -> str | None:  # pragma: no cover - screens override
        return None

    def _acting_on(self, action: str) -> str | None:
        """The selected task's uuid, or None after saying why nothing happens."""
        uuid = self.selected_task()
        if uuid is None:
            self.app.notify("no task selected", severity="warning")
            return None
        if self.app.refuse_if_read_only(MUTATING_ACTIONS[action]):
            return None
        return uuid

    def action_revoke_task(self) -> None:
        """Ask first (a worker that has not started the task discards it: nothing brings it
        back); a task already finished is said so, and nothing is sent."""
        uuid = self._acting_on("revoke_task")
        if uuid is None:
            return
        with self.app.monitor.lock:
            task = self.app.monitor.state.tasks.get(uuid)
            name, state = (task.name, task.state) if task else (None, None)
        if state in READY_STATES:
            self.app.notify(
                f"revoke: task {uuid} has already finished ({state}); nothing to revoke",
                markup=False,
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.controller_call(
                    "revoke",
                    uuid,
                    label=f"revoke {uuid[:8]}",
                    on_done=lambda r: self._reported("revoke", uuid, r),
                )

        named = f" ({name}, {state})" if name and state else f" ({state})" if state else ""
        self.app.push_screen(
            ConfirmDialog(
                f"Revoke task {uuid}{named}? A worker that has not started it discards it."
            ),
            answered,
        )

    def action_terminate_task(self) -> None:
        uuid = self._acting_on("terminate_task")
        if uuid is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.controller_call(
                    "terminate",
                    uuid,
                    label=f"terminate {uuid[:8]}",
                    on_done=lambda r: self._reported("terminate", uuid, r),
                )

        self.app.push_screen(
            ConfirmDialog(f"Terminate task {uuid}? Its worker process gets SIGTERM."), answered
        )

    def action_rate_limit_task(self) -> None:
        uuid = self._acting_on("rate_limit_task")
        if uuid is None:
            return
        with self.app.monitor.lock:
            task = self.app.monitor.state.tasks.get(uuid)
            name = task.name if task else None
        if not name:
            self.app.notify("rate limit: the task's name is unknown", severity="error")
            return

        def answered(values: dict[str, str] | None) -> None:
            if values:
                rate = values["rate"]
                self.app.controller_call(
                    "rate_limit",
                    name,
                    rate,
                    label=f"rate limit {name}",
                    on_done=lambda r: self._reported(f"rate limit {rate}", name, r),
                )

        self.app.push_screen(
            PromptDialog(
                f"Rate limit for {name}",
                [("rate", "Rate (e.g. 10/m; 0 = none)", "10/m")],
                validate=validate_rate,
            ),
            answered,
        )

    def _reported(self, what: str, target: str, result: Any) -> None:
        if getattr(result, "ok", False):
            self.app.notify(
                f"{what}: sent to {len(result.replies)} worker(s) for {target}", markup=False
            )
        else:
            error = getattr(result, "error", None) or "no reply"
            self.app.notify(f"{what} {target}: {error}", severity="error", markup=False)
