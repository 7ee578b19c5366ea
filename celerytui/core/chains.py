"""Chains (and any parent/child workflow): the tree of tasks sharing a root_id.

ClusterState indexes chain members by root_id as events arrive; the tree itself is built on
demand, so a chain whose events came out of order (child before parent) still draws whole.
A group sent from a plain client shares no root: ``group_tree`` hangs its members (found by
core/canvas_members.py) under one group node.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from celerytui.core.model import PENDING, RECEIVED, STARTED, Task

if TYPE_CHECKING:
    from celerytui.core.canvas_members import GroupMembership, Member

_INF = float("inf")


@dataclass(slots=True)
class ChainNode:
    """One task of a chain with the tasks it started, ordered by time."""

    task: Task
    children: list[ChainNode] = field(default_factory=list)
    group: GroupMembership | None = None  # a group node: its task is a nameless stand-in

    def walk(self) -> Iterable[tuple[int, ChainNode]]:
        """(depth, node) depth-first, parents before children — the order to draw them."""
        stack = [(0, self)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(node.children))

    def __len__(self) -> int:
        return sum(1 for _ in self.walk())


def _when(task: Task) -> tuple[float, int]:
    first = task.sent or task.received or task.started or task.timestamp
    return (first if first is not None else _INF, task.seq)


def build_chain(
    tasks: Mapping[str, Task], members: Mapping[str, Collection[str]], uuid: str
) -> ChainNode | None:
    """The tree `uuid` belongs to, from its root; None if `uuid` is unknown.

    `members` maps a root_id to the uuids (other than the root) that named it. When the root was
    evicted (or never seen), a placeholder PENDING task stands in for it, so the rest still shows;
    so does a missing parent (its events lost, or evicted), hung under the root: a child is
    never drawn under a task that did not start it. The tasks' `children` are not changed.
    """
    task = tasks.get(uuid)
    if task is None:
        return None
    root_id = task.root_id or uuid
    found: dict[str, Task] = {}
    root = tasks.get(root_id)
    if root is not None:
        found[root_id] = root
    for member in members.get(root_id, ()):
        t = tasks.get(member)
        if t is not None:
            found[member] = t
    found.setdefault(uuid, task)
    if root is None:
        root = Task(uuid=root_id)

    kids: dict[str, list[Task]] = {}
    for t in list(found.values()):
        if t.uuid == root_id:
            continue
        parent = t.parent_id or root_id
        if parent not in found and parent != root_id:
            stand_in = found[parent] = Task(uuid=parent, seq=t.seq)
            kids.setdefault(root_id, []).append(stand_in)
        kids.setdefault(parent, []).append(t)

    top = ChainNode(root)
    seen = {root_id}
    queue = [top]
    while queue:  # iterative: chains can be thousands long, groups wide; ids may loop
        node = queue.pop()
        for child in sorted(kids.get(node.task.uuid, ()), key=_when):
            if child.uuid in seen:
                continue
            seen.add(child.uuid)
            child_node = ChainNode(child)
            node.children.append(child_node)
            queue.append(child_node)
    return top


def unfinished(chain: ChainNode) -> list[str]:
    """Members of the canvas not finished yet (pending, received, started, retrying, lost):
    what revoking the whole canvas names. A stand-in for a task never seen (no name) is left
    out."""
    return [
        node.task.uuid
        for _, node in chain.walk()
        if not node.task.ready and node.task.name is not None
    ]


def running(chain: ChainNode) -> list[str]:
    """Members of the canvas running now (STARTED): what terminating the canvas kills."""
    return [node.task.uuid for _, node in chain.walk() if node.task.state == STARTED]


def group_tree(group: GroupMembership, chain_of: Callable[[str], ChainNode | None]) -> ChainNode:
    """One node for the group, its members under it (by group index), each with the tasks
    it started. ``chain_of(uuid)`` is the chain the monitor knows for a member (None: the
    monitor has not seen it; a stand-in from what the backend or broker said is drawn)."""
    top = ChainNode(Task(uuid=group.group_id), group=group)
    nodes: list[tuple[tuple[float, ...], ChainNode]] = []
    indexed = all(m.index is not None for m in group.members.values())
    for member in group.members.values():
        tree = chain_of(member.id)
        node = _node_of(tree, member.id) if tree is not None else None
        if node is None:
            node = ChainNode(_stand_in(member))
        index = member.index if member.index is not None else 1 << 31
        when = _when(node.task)
        nodes.append(((index, *when) if indexed else (*when, index), node))
    placed: set[str] = set()
    # by group index when every member's is known, else by time (a group is sent in order)
    for _, node in sorted(nodes, key=lambda entry: entry[0]):
        if node.task.uuid in placed:
            continue
        top.children.append(node)
        placed.update(n.task.uuid for _, n in node.walk())
    return top


def _node_of(tree: ChainNode, uuid: str) -> ChainNode | None:
    return next((node for _, node in tree.walk() if node.task.uuid == uuid), None)


def _stand_in(member: Member) -> Task:
    """A member the monitor never saw: its state as the backend or the broker tells it."""
    state = member.status or (RECEIVED if member.reserved else PENDING)
    return Task(uuid=member.id, name=member.name or "(name not known)", state=state)
