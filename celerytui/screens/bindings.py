"""The bindings a screen or the app declares, read from their public ``BINDINGS``.

Textual merges each class's ``BINDINGS`` along the class hierarchy (a subclass's binding for a
key replaces its base's); ``declared_bindings`` does the same with ``textual.binding.
BindingsMap``, so the help, the command palette and the key guards see what the node binds
(shown or hidden by ``check_action``) without reaching into Textual's private state.

Given the user's keymap (binding id -> keys, ``celerytui.keymaps``), the bindings come back
on their remapped keys, as Textual applies the same keymap (``BindingsMap.apply_keymap``): the
help, the palette and the read-only guard then name the keys that really act. Every binding
has an id (``tests/ui/test_keymap.py`` checks it), so every key can be moved.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from types import MappingProxyType

from textual.binding import Binding, BindingsMap

Keymap = Mapping[str, str]


def declared_bindings(
    node: object, keymap: Keymap | None = None
) -> Mapping[str, Sequence[Binding]]:
    """key -> the bindings ``node``'s class declares for it, in Textual's merge order, with
    ``keymap`` (normalized, as ``celerytui.keymaps.check_keymap`` returns it) applied."""
    return class_bindings(type(node), keymap)


def class_bindings(cls: type, keymap: Keymap | None = None) -> Mapping[str, Sequence[Binding]]:
    """``declared_bindings`` for a class."""
    return _merged(cls, tuple(sorted(keymap.items())) if keymap else ())


@cache
def _merged(cls: type, keymap: tuple[tuple[str, str], ...]) -> Mapping[str, Sequence[Binding]]:
    keys: dict[str, tuple[Binding, ...]] = {}
    for base in reversed(cls.__mro__):
        declared = base.__dict__.get("BINDINGS")
        if declared:
            keys.update(
                (key, tuple(bindings))
                for key, bindings in BindingsMap(declared).key_to_bindings.items()
            )
    if keymap:
        remapped = BindingsMap.from_keys({key: list(bindings) for key, bindings in keys.items()})
        remapped.apply_keymap(dict(keymap))
        keys = {key: tuple(bindings) for key, bindings in remapped.key_to_bindings.items()}
    return MappingProxyType(keys)


def each_binding(node: object, keymap: Keymap | None = None) -> Iterator[Binding]:
    """Every binding ``node`` declares, key by key (on the keys ``keymap`` gives them)."""
    for bindings in declared_bindings(node, keymap).values():
        yield from bindings
