"""The bindings a screen or the app declares, read from their public ``BINDINGS``.

Textual merges each class's ``BINDINGS`` along the class hierarchy (a subclass's binding for a
key replaces its base's); ``declared_bindings`` does the same with ``textual.binding.
BindingsMap``, so the help, the command palette and the key guards see what the node binds
(shown or hidden by ``check_action``) without reaching into Textual's private state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from types import MappingProxyType

from textual.binding import Binding, BindingsMap


def declared_bindings(node: object) -> Mapping[str, Sequence[Binding]]:
    """key -> the bindings ``node``'s class declares for it, in Textual's merge order."""
    cls: type = type(node)
    return _merged(cls)


@cache
def _merged(cls: type) -> Mapping[str, Sequence[Binding]]:
    keys: dict[str, tuple[Binding, ...]] = {}
    for base in reversed(cls.__mro__):
        declared = base.__dict__.get("BINDINGS")
        if declared:
            keys.update(
                (key, tuple(bindings))
                for key, bindings in BindingsMap(declared).key_to_bindings.items()
            )
    return MappingProxyType(keys)


def each_binding(node: object) -> Iterator[Binding]:
    """Every binding ``node`` declares, key by key."""
    for bindings in declared_bindings(node).values():
        yield from bindings
