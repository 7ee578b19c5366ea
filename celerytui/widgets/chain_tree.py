"""A chain (or any parent/child workflow) as a tree: root first, children by time, live states."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Tree

from celerytui.core.chains import ChainNode
from celerytui.text_safety import escape_controls
from celerytui.widgets import chosen
from celerytui.widgets.task_tail import short_name

STATE_STYLE = {
    "SUCCESS": "green",
    "FAILURE": "bold red",
    "RETRY": "yellow",
    "REVOKED": "yellow",
    "REJECTED": "red",
    "STARTED": "cyan",
    "RECEIVED": "blue",
    "LOST": "bold reverse red",
}


def group_label(node: ChainNode) -> Text:
    """``GROUP  10 members (12 sent)  gid8``: the node the members of a group hang under."""
    group = node.group
    assert group is not None
    label = Text(no_wrap=True, end="")
    label.append(f"{group.kind.upper():<8}", style="bold magenta")
    label.append(f" {len(node.children)} members")
    if group.expected is not None and group.expected > len(node.children):
        label.append(f" ({group.expected} sent)", style="yellow")
    label.append(f"  {escape_controls(group.group_id[:8])}", style="dim")
    return label


def node_label(node: ChainNode, current: str | None) -> Text:
    """``STATE  tasks.name  uuid8`` with the state coloured; the shown task in bold."""
    if node.group is not None:
        return group_label(node)
    task = node.task
    label = Text(no_wrap=True, end="")
    label.append(f"{escape_controls(task.state):<8}", style=STATE_STYLE.get(task.state, ""))
    label.append(" ")
    label.append(
        escape_controls(short_name(task.name) if task.name else "(not seen)"),
        style="bold" if task.uuid == current else "",
    )
    label.append(f"  {escape_controls(task.uuid[:8])}", style="dim")
    return label


class ChainTree(Tree[str]):
    """Rebuilt only when the chain's shape or a member's state changes (chains are small)."""

    DEFAULT_CSS = """
    ChainTree { height: auto; max-height: 16; }
    """

    class TaskChosen(chosen.TaskChosen):
        """Enter on another member of the chain: open that task."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("chain", **kwargs)
        self.show_root = True
        self._shape: tuple = ()
        self._current: str | None = None
        self.members: set[str] = set()

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        uuid = event.node.data
        if uuid and uuid != self._current:
            self.post_message(self.TaskChosen(uuid))

    def show(self, chain: ChainNode | None, current: str | None) -> None:
        """Draw ``chain`` (None: the task belongs to no chain we know of)."""
        if chain is None:
            shape: tuple = ()
        else:
            shape = tuple(
                (depth, n.task.uuid, n.task.state, n.task.name) for depth, n in chain.walk()
            )
            if chain.group is not None:
                shape += (chain.group.kind, chain.group.expected)
        self._current = current
        if shape == self._shape and self.members:
            return
        self._shape = shape
        self.members = {n.task.uuid for _, n in chain.walk()} if chain is not None else set()
        self.clear()
        if chain is None:
            self.root.set_label(Text("no chain", style="dim"))
            return
        self.root.set_label(node_label(chain, current))
        self.root.data = chain.task.uuid if chain.group is None else None  # a group: no task
        stack = [(self.root, child) for child in reversed(chain.children)]
        while stack:
            parent, node = stack.pop()
            branch = parent.add(node_label(node, current), data=node.task.uuid, expand=True)
            if not node.children:
                branch.allow_expand = False
            stack.extend((branch, child) for child in reversed(node.children))
        self.root.expand_all()
