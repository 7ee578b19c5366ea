"""Dispatch from the keyboard: h/d/o/e/t fire tasks, R re-runs one, and the one way any screen
reaches the Controller (``controller_call``) — always in a thread worker, never blocking the UI.

Mixed into ``celerytui.app.CeleryTUI``; it relies on the app's ``monitor``, ``settings`` and
``refuse_if_read_only``; what a refusal says is in ``celerytui.screens.read_only``.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.screen import ModalScreen

from celerytui.core.model import Changes
from celerytui.core.seed_tasks import unregistered_seed_tasks
from celerytui.redaction import one_line
from celerytui.screens import ClusterScreen
from celerytui.screens.bindings import declared_bindings
from celerytui.screens.read_only import MUTATING_ACTIONS
from celerytui.text_safety import escaped_cut

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from celerytui.screens.host import ScreenHost as _Host
else:
    _Host = object

# the keys that send the seed's tasks: action -> (seed_tasks kind, what a notice calls it)
SEED_ACTIONS = {
    "fire_http": ("http", "HTTP check"),
    "fire_disk": ("disk", "disk check"),
    "fire_order": ("order", "order chain"),
    "fire_email": ("email", "send_email"),
}


class DispatchActions(_Host):
    """The app's actions that send tasks or control calls to the cluster."""

    _fired: dict[str, str]
    _seed_unregistered: dict[str, list[str]] | None = None

    def seed_unregistered(self, action: str) -> list[str]:
        """The seed tasks ``action`` would send that the watched app does not register (empty
        for other actions, and when the app is not known)."""
        if action not in SEED_ACTIONS:
            return []
        if self._seed_unregistered is None:
            self._seed_unregistered = {}
        if action not in self._seed_unregistered:
            app = self.monitor.app
            kind = SEED_ACTIONS[action][0]
            try:
                missing = unregistered_seed_tasks(app, kind) if app is not None else []
            except Exception as exc:  # the user's app failed to finalize: offer the key
                self.log.warning(f"registered tasks unknown: {exc}")
                missing = []
            self._seed_unregistered[action] = missing
        return self._seed_unregistered[action]

    def refuse_if_unregistered(self, action: str) -> bool:
        """True (and one line) when the watched app does not register ``action``'s tasks."""
        missing = self.seed_unregistered(action)
        if not missing:
            return False
        app = self.monitor.app
        owner = (app.main if app is not None else None) or self.settings.app or "the app"
        self.notify(
            f"{SEED_ACTIONS[action][1]}: {owner} does not register {missing[0]}; "
            "t sends any task it does",
            severity="warning",
        )
        return True

    def _refused(self, action: str) -> bool:
        """True (and one line) when --read-only or the watched app rules out a seed key."""
        return self.refuse_if_read_only(MUTATING_ACTIONS[action]) or self.refuse_if_unregistered(
            action
        )

    def on_key(self, event: events.Key) -> None:
        """A seed key the app does not offer answers with one line, not silence."""
        if isinstance(self.screen, ModalScreen):
            return
        active = self.screen.active_bindings.get(event.key)
        if active is not None and active.enabled:
            return  # the screen (or an offered key) handles it
        for binding in declared_bindings(self, self.keymap).get(event.key, ()):
            if binding.action in SEED_ACTIONS and self.refuse_if_unregistered(binding.action):
                event.stop()
                event.prevent_default()
                return

    def controller_call(
        self,
        method: str,
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        label: str | None = None,
        mutating: bool = True,
        **kwargs: Any,
    ) -> None:
        """Run ``monitor.controller.<method>(*args, **kwargs)`` off the UI thread."""
        what = label or method.replace("_", " ")
        if mutating and self.refuse_if_read_only(what, sends_message=method != "purge"):
            return
        self._controller_worker(method, args, kwargs, on_done, what)

    @work(thread=True, exclusive=False, exit_on_error=False, group="controller")
    def _controller_worker(
        self,
        method: str,
        args: tuple,
        kwargs: dict,
        on_done: Callable[[Any], None] | None,
        what: str,
    ) -> None:
        try:
            result = getattr(self.monitor.controller, method)(*args, **kwargs)
        except Exception as exc:  # ControlError, ReadOnlyError, broker errors: one line
            self.call_from_thread(
                self.notify, f"{what} failed: {one_line(exc)}", severity="error", timeout=8
            )
            return
        if on_done is not None:
            self.call_from_thread(on_done, result)

    def fire(self, method: str, *args: Any, label: str, **kwargs: Any) -> None:
        """Send a task via ``controller.<method>`` and follow it to its end state."""

        def sent(task_id: str) -> None:
            self._fired[task_id] = label
            try:
                self.monitor.watch_result(task_id)
            except Exception as exc:
                self.log.warning(f"watch_result failed: {one_line(exc)}")
            self.notify(f"sent {label}: {task_id}", title="task sent")

        self.controller_call(method, *args, on_done=sent, label=label, **kwargs)

    def _notify_finished(self, changes: Changes) -> None:
        if not self._fired or not changes.tasks:
            return
        for task_id in list(self._fired):
            if task_id not in changes.tasks:
                continue
            task = self.monitor.state.tasks.get(task_id)
            if task is None or not task.ready:
                continue
            label = self._fired.pop(task_id)
            outcome: str | None
            if task.result_is_full:
                outcome = json.dumps(task.result_full, default=str)
            else:
                outcome = task.exception or task.result
            text = escaped_cut(outcome, 200)
            severity: SeverityLevel = "information" if task.state == "SUCCESS" else "error"
            self.notify(
                f"{label} {task.state}: {text}",
                title=task_id[:8],
                severity=severity,
                markup=False,
                timeout=8,
            )

    def action_fire_http(self) -> None:
        from celerytui.screens.dialogs import PromptDialog

        if self._refused("fire_http"):
            return
        default = self.settings.http_targets[0] if self.settings.http_targets else "https://"
        self.push_screen(
            PromptDialog("HTTP check", [("url", "URL", default)], validate=_require_url),
            _if_given(lambda v: self.fire("fire_http", v["url"], label=f"HTTP check {v['url']}")),
        )

    def action_fire_disk(self) -> None:
        from celerytui.screens.dialogs import PromptDialog

        if self._refused("fire_disk"):
            return
        default = self.settings.disk_hosts[0].name if self.settings.disk_hosts else "local"
        self.push_screen(
            PromptDialog("Disk check", [("host", "Host", default)], validate=_require("host")),
            _if_given(lambda v: self.fire("fire_disk", v["host"], label=f"disk check {v['host']}")),
        )

    def action_fire_order(self) -> None:
        from celerytui.screens.dialogs import PromptDialog

        if self._refused("fire_order"):
            return
        self.push_screen(
            PromptDialog(
                "Order chain", [("order_id", "Order id", "1001")], validate=_require_int("order_id")
            ),
            _if_given(
                lambda v: self.fire(
                    "fire_order", int(v["order_id"]), label=f"order {v['order_id']}"
                )
            ),
        )

    def action_fire_email(self) -> None:
        from celerytui.screens.dialogs import PromptDialog

        if self._refused("fire_email"):
            return
        fields = [("to", "To", "ops@example.com"), ("content", "Content", "hello from celerytui")]
        self.push_screen(
            PromptDialog("send_email", fields, validate=_require("to")),
            _if_given(
                lambda v: self.fire(
                    "fire_email", v["to"], v["content"], label=f"email to {v['to']}"
                )
            ),
        )

    def action_fire_task(self) -> None:
        if self.refuse_if_read_only(MUTATING_ACTIONS["fire_task"]):
            return
        self._open_task_picker()

    @work(thread=True, exclusive=True, exit_on_error=False, group="picker")
    def _open_task_picker(self) -> None:
        names = set(self._local_task_names())
        try:
            replies = self.monitor.controller.inspect("registered") or {}
        except Exception as exc:
            self.call_from_thread(
                self.notify, f"inspect registered failed: {one_line(exc)}", severity="warning"
            )
            replies = {}
        for reply in replies.values():
            for entry in reply or []:
                names.add(str(entry).split(" ", 1)[0])  # "name [rate_limit=...]"
        self.call_from_thread(self._push_task_picker, sorted(names))

    def _local_task_names(self) -> list[str]:
        app = self.monitor.app
        tasks = app.tasks if app is not None else {}
        return [name for name in list(tasks) if not name.startswith("celery.")]

    def _push_task_picker(self, names: list[str]) -> None:
        from celerytui.screens.dialogs import TaskPickerDialog

        def chosen(value: dict | None) -> None:
            if value:
                self.fire(
                    "send_task", value["name"], value["args"], value["kwargs"], label=value["name"]
                )

        self.push_screen(TaskPickerDialog(names), chosen)

    def action_rerun_selected(self) -> None:
        screen = self.screen
        uuid = screen.selected_task() if isinstance(screen, ClusterScreen) else None
        if uuid is None:
            self.notify("no task selected", severity="warning")
            return
        self.rerun_task(uuid)

    def rerun_task(self, uuid: str) -> None:
        """Send the task ``uuid`` again with the same name, args and kwargs."""
        if self.refuse_if_read_only(MUTATING_ACTIONS["rerun_selected"]):
            return
        with self.monitor.lock:
            task = self.monitor.state.tasks.get(uuid)
            name, args, kwargs = (task.name, task.args, task.kwargs) if task else (None,) * 3
        if not name:
            self.notify("cannot re-run: task name unknown", severity="error")
            return
        try:
            parsed_args = _parse_repr(args, ())
            parsed_kwargs = _parse_repr(kwargs, {})
        except ValueError as exc:
            self.notify(f"cannot re-run: {exc}", severity="error")
            return
        self.fire("send_task", name, list(parsed_args), dict(parsed_kwargs), label=f"re-run {name}")


def _if_given(then: Callable[[dict], None]) -> Callable[[dict | None], None]:
    """A dialog's callback: ``then(values)`` unless it was cancelled (None) or empty."""

    def done(values: dict | None) -> None:
        if values:
            then(values)

    return done


def _parse_repr(text: str | None, empty: Any) -> Any:
    if not text:
        return empty
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"arguments not recoverable from {text[:40]!r}") from None
    if isinstance(empty, tuple) and not isinstance(value, (list, tuple)):
        raise ValueError("args are not a list")
    if isinstance(empty, dict) and not isinstance(value, dict):
        raise ValueError("kwargs are not a mapping")
    return value


def _require(field: str) -> Callable[[dict], str | None]:
    def check(values: dict) -> str | None:
        return None if values.get(field, "").strip() else f"{field} is required"

    return check


def _require_int(field: str) -> Callable[[dict], str | None]:
    def check(values: dict) -> str | None:
        try:
            int(values.get(field, ""))
        except ValueError:
            return f"{field} must be a whole number"
        return None

    return check


def _require_url(values: dict) -> str | None:
    url = values.get("url", "").strip()
    if not url.startswith(("http://", "https://")) or len(url) < 10:
        return "URL must start with http:// or https://"
    return None
