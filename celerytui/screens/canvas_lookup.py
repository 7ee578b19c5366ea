"""The task detail's whole canvas: its tree (a chain by root_id, or a group sent from a plain
client found by core/canvas_members.py) and x / X on it, which revoke every unfinished member
or terminate the running ones, after a confirm that says how many and how they were found.

The group is looked up off the UI thread when the detail opens and again when x / X is
pressed (so the counts in the dialog are fresh); the reads are bounded (canvas_broker.py,
canvas_results.py) and fail within the controller's timeout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from celerytui.core.canvas_members import CANDIDATES, CanvasFinder, GroupMembership
from celerytui.core.canvas_summary import group_summary
from celerytui.core.chains import ChainNode, group_tree, running, unfinished
from celerytui.core.state import ClusterState
from celerytui.redaction import one_line
from celerytui.screens.dialogs import ConfirmDialog
from celerytui.screens.read_only import MUTATING_ACTIONS
from celerytui.widgets.chain_tree import ChainTree

LOOK_AT = 20_000  # newest kept tasks looked at for candidates (the pump waits meanwhile)

if TYPE_CHECKING:
    from celerytui.screens.live import LiveScreen
    from celerytui.screens.task_actions import TaskActions

    class _Screen(TaskActions, LiveScreen):
        uuid: str

else:
    _Screen = object


class CanvasLookup(_Screen):
    """Mixed into TaskDetailScreen (before TaskActions, whose x / X it takes over on the tree)."""

    _group: GroupMembership | None = None
    _finder: CanvasFinder | None = None
    _group_asked = False
    _acting: str | None = None  # x / X pressed, its lookup under way: further presses wait

    # -- the tree ----------------------------------------------------------------------------
    def canvas_of(self, state: ClusterState) -> ChainNode | None:
        """The task's chain, under its group's node when its root is a member of a group."""
        chain = state.chain(self.uuid)
        group = self._group
        if group is not None and chain is not None and chain.task.uuid in group.members:
            return group_tree(group, state.chain)
        return chain

    def unlisted_note(self) -> str | None:
        """When no group was found: why one may be missed (an AMQP broker: only members with
        a stored result are known; a read that failed)."""
        finder = self._finder
        if finder is None or self._group is not None:
            return None
        why = [finder.unlisted] if finder.unlisted else []
        return "; ".join(why + finder.problems) or None

    def ask_group_once(self) -> None:
        """On the first draw: look the task's group up (no-op where no broker can be read)."""
        if not self._group_asked:
            self._group_asked = True
            self._look_up_group(None)

    def _can_look_up(self) -> bool:
        return self.app.monitor.app is not None and getattr(self.app, "replay", None) is None

    @work(thread=True, exclusive=True, group="detail-canvas", exit_on_error=False)
    def _look_up_group(self, then: str | None) -> None:
        group = None
        if self._can_look_up():
            monitor = self.app.monitor
            with monitor.lock:
                root, candidates, queues = _lookup_inputs(monitor, self.uuid)
            if self._finder is None:
                self._finder = CanvasFinder(monitor.app, timeout=monitor.controller.timeout)
            try:
                group = self._finder.find(root, candidates, queues)
            except Exception as exc:  # a read that failed in a way not foreseen: say so
                self.log.warning(f"canvas lookup failed: {one_line(exc)}")
                group = self._group
        self.app.call_from_thread(self._group_found, group, then)

    def _group_found(self, group: GroupMembership | None, then: str | None) -> None:
        if group is not None:
            self._group = group
        monitor = self.app.monitor
        with monitor.lock:
            self.refresh_view(monitor, None)
        if then is None or then != self._acting:
            return
        self._acting = None
        if then == "revoke":
            self._revoke_canvas()
        else:
            self._terminate_canvas()

    def _act_after_lookup(self, what: str) -> None:
        if self._acting is None:
            self._acting = what
            self._look_up_group(what)

    # -- x / X on the tree ---------------------------------------------------------------------
    def _on_tree(self) -> bool:
        return self.query_one(ChainTree).has_focus

    def action_revoke_task(self) -> None:
        if not self._on_tree():
            super().action_revoke_task()
            return
        if self.app.refuse_if_read_only(MUTATING_ACTIONS["revoke_task"]):
            return
        self._act_after_lookup("revoke")

    def action_terminate_task(self) -> None:
        if not self._on_tree():
            super().action_terminate_task()
            return
        if self.app.refuse_if_read_only(MUTATING_ACTIONS["terminate_task"]):
            return
        self._act_after_lookup("terminate")

    def _canvas(self) -> ChainNode | None:
        """The canvas, when it holds more than this task."""
        with self.app.monitor.lock:
            chain = self.canvas_of(self.app.monitor.state)
        return chain if chain is not None and len(chain) > 1 + (chain.group is not None) else None

    def _revoke_canvas(self) -> None:
        chain = self._canvas()
        if chain is None:
            super().action_revoke_task()
            return
        with self.app.monitor.lock:
            ids, busy = unfinished(chain), len(running(chain))
        if not ids:
            self.app.notify("revoke: every member of this canvas has finished")
            return
        also = f" ({busy} running keep running: X terminates them)" if busy else ""
        self._confirm_canvas(
            f"Revoke the {len(ids)} unfinished members of this canvas{also}?{_how(chain)}",
            ids,
            False,
        )

    def _terminate_canvas(self) -> None:
        chain = self._canvas()
        if chain is None:
            super().action_terminate_task()
            return
        with self.app.monitor.lock:
            ids = running(chain)
        if not ids:
            self.app.notify("terminate: no member of this canvas is running")
            return
        self._confirm_canvas(
            f"Terminate the {len(ids)} running members of this canvas? "
            f"Their worker processes get SIGTERM.{_how(chain)}",
            ids,
            True,
        )

    def _confirm_canvas(self, question: str, ids: list[str], terminate: bool) -> None:
        what = "terminate" if terminate else "revoke"

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.controller_call(
                    "revoke_many",
                    ids,
                    terminate,
                    label=f"{what} {len(ids)} canvas members",
                    on_done=lambda r: self._reported(what, f"{len(ids)} canvas members", r),
                )

        self.app.push_screen(ConfirmDialog(question), answered)


def _how(chain: ChainNode) -> str:
    """For a group: how its membership was found ("10 members: 4 done (results), ...")."""
    if chain.group is None:
        return ""
    return f" {chain.group.kind.capitalize()} {chain.group.group_id[:8]}: {group_summary(chain)}."


def _lookup_inputs(monitor: Any, uuid: str) -> tuple[str, list[str], list[str]]:
    """(the chain's root, tasks that may be members — roots with no parent, newest first —
    and the queues to scan), read under the monitor's lock."""
    state = monitor.state
    chain = state.chain(uuid)
    root = chain.task.uuid if chain is not None else uuid
    candidates: list[str] = []
    for looked, task in enumerate(reversed(state.tasks.values())):
        if looked >= LOOK_AT or len(candidates) > CANDIDATES:
            break
        if task.parent_id is None and task.root_id in (None, task.uuid) and task.uuid != root:
            candidates.append(task.uuid)
    queues = [q.name for q in monitor.queue_depths]
    me = state.tasks.get(root)
    if me is not None and me.queue:
        queues.append(me.queue)
    app = monitor.app
    queues.append((app.conf.task_default_queue if app is not None else None) or "celery")
    return root, candidates, list(dict.fromkeys(queues))
