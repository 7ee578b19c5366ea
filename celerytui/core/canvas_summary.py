"""How a group's members stand, in words, and how each was found (for the tree's heading and
the confirm dialog): "10 members: 4 done (results), 2 running (results), 4 queued (broker)"."""

from __future__ import annotations

from celerytui.core.chains import ChainNode
from celerytui.core.model import RECEIVED, STARTED

ORDER = ("done", "running", "reserved", "queued")


def member_kind(node: ChainNode) -> str:
    """done / running / reserved / queued, by the member's state (events, else its source)."""
    task = node.task
    if task.ready:
        return "done"
    if task.state == STARTED:
        return "running"
    return "reserved" if task.state == RECEIVED else "queued"


def group_summary(group_node: ChainNode) -> str:
    """The members' standing with their sources, the expected size when more were sent, and
    the notes of the reads (cut scans, unreadable sources)."""
    group = group_node.group
    if group is None:
        return ""
    counts: dict[str, int] = dict.fromkeys(ORDER, 0)
    sources: dict[str, set[str]] = {kind: set() for kind in ORDER}
    for child in group_node.children:
        kind = member_kind(child)
        counts[kind] += 1
        member = group.members.get(child.task.uuid)
        sources[kind].update(member.found_by if member else ("events",))
    parts = [
        f"{counts[kind]} {kind} ({', '.join(sorted(sources[kind]))})"
        for kind in ORDER
        if counts[kind]
    ]
    found = len(group_node.children)
    text = f"{found} members: " + ", ".join(parts)
    if group.expected is not None and group.expected > found:
        text += (
            f"; {group.expected} sent, {group.expected - found} not found (running with "
            "their messages acked and no STARTED stored, or gone)"
        )
    if group.notes:
        text += "; " + "; ".join(group.notes)
    return text
