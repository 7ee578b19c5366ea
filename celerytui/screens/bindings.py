"""The bindings a screen or the app declares, read from their public ``BINDINGS``.

Textual merges each class's ``BINDINGS`` along the class hierarchy (a subclass's binding for a
key replaces its base's); ``declared_bindings`` does the same with ``textual.binding.
BindingsMap``, so the help, the command palette and the key guards see what the node binds
(shown or hidden by ``check_action``) without reaching into Textual's private state.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.binding import Binding, BindingsMap


def declared_bindings(node: object) -> dict[str, list[Binding]]:
    """key -> the bindings ``node``'s class declares for it, in Textual's merge order."""
    keys: dict[str, list[Binding]] = {}
    for base in reversed(type(node).__mro__):
        declared = base.__dict__.get("BINDINGS")
        if declared:
            keys.update(BindingsMap(declared).key_to_bindings)
    return keys


def each_binding(node: object) -> Iterator[Binding]:
    """Every binding ``node`` declares, key by key."""
    for bindings in declared_bindings(node).values():
        yield from bindings
