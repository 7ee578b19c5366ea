"""The words the ``:`` command line knows, how they complete, and what a line means.

Pure (no Textual): the command line screen asks ``completions`` while the user types and
``parse`` on enter; the app carries out the ``Command``. A word may be cut to any prefix that
names one thing (``:w`` is workers, ``:ta`` tasks); ``:q`` is always quit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from celerytui.control_chars import escape_controls

Kind = Literal["screen", "context", "contexts", "quit", "help"]
CONTEXT_WORDS = ("ctx", "context")
OTHER_WORDS: dict[str, Kind] = {"q": "quit", "quit": "quit", "q!": "quit", "help": "help"}


class CommandLineError(ValueError):
    """A line that names nothing: the message is the one line the user sees."""


@dataclass(frozen=True, slots=True)
class Command:
    """What a line asks for: a screen (mode name), a context, the list of contexts, quit."""

    kind: Kind
    arg: str = ""


def _words(screens: Sequence[str]) -> dict[str, Kind]:
    words: dict[str, Kind] = {name: "screen" for name in screens}
    words.update(dict.fromkeys(CONTEXT_WORDS, "context"))
    words.update(OTHER_WORDS)
    return words


def _resolve(word: str, words: dict[str, Kind]) -> str:
    """The word ``word`` names, itself or by a prefix that names one thing (synonyms count
    once: ``:co`` is ctx, ``:qui`` is quit)."""
    if word in words:
        return word
    canonical = {"context": "ctx", "q": "quit", "q!": "quit"}
    matches = sorted({canonical.get(w, w) for w in words if w.startswith(word)})
    if len(matches) == 1:
        return matches[0]
    shown = escape_controls(repr(word))
    if matches:
        raise CommandLineError(f"ambiguous command :{shown}: :{', :'.join(matches)}")
    screens = [w for w, kind in words.items() if kind == "screen"]
    raise CommandLineError(f"unknown command :{shown} (try :ctx NAME, :{', :'.join(screens)}, :q)")


def parse(text: str, screens: Sequence[str], contexts: Sequence[str]) -> Command | None:
    """The command ``text`` (with or without its ``:``) names; None for an empty line."""
    word, _, rest = text.strip().removeprefix(":").strip().partition(" ")
    rest = rest.strip()
    if not word:
        return None
    words = _words(screens)
    word = _resolve(word, words)
    kind = words[word]
    if kind == "context":
        if not rest:
            return Command("contexts")
        if rest not in contexts:
            known = ", ".join(escape_controls(name) for name in contexts)
            shown = escape_controls(repr(rest))
            raise CommandLineError(
                f"unknown context {shown}; known: {known}"
                if contexts
                else f"unknown context {shown}: the config file defines no [contexts.NAME]"
            )
        return Command("context", rest)
    if rest:
        raise CommandLineError(f":{word} takes no argument")
    return Command(kind, word)


def completions(text: str, screens: Sequence[str], contexts: Sequence[str]) -> list[str]:
    """Whole lines (no ``:``) that ``text`` may become, best first: ``ctx NAME`` for each
    context, then the screens and the other words."""
    typed = text.lstrip().removeprefix(":")
    word, space, rest = typed.partition(" ")
    if space:
        if word not in CONTEXT_WORDS:
            return []
        return [f"{word} {name}" for name in contexts if name.startswith(rest.lstrip())]
    found = [f"ctx {name}" for name in contexts if f"ctx {name}".startswith(word)] if word else []
    found += [w for w in (*screens, "ctx", "help", "quit") if w.startswith(word) and w != word]
    return found


def common_prefix(lines: Sequence[str]) -> str:
    """The longest start all ``lines`` share (what Tab fills in when several fit)."""
    if not lines:
        return ""
    first, last = min(lines), max(lines)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]
