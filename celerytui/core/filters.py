"""The task filter language shared by the TUI's `/` and `celerytui tail --filter`.

Syntax, terms separated by spaces and ANDed:

- a bare word is a case-insensitive regex searched in the task's name, args, kwargs, uuid and
  exception;
- ``name:RE`` ``worker:RE`` ``args:RE`` (args and kwargs) ``queue:RE`` search one field;
- ``state:S`` matches the state case-insensitively, exactly or by prefix (``state:fail``);
  ``state:failure,retry`` (or ``|``) accepts any of several;
- ``!`` before a term negates it (``!name:heartbeat``);
- quotes keep spaces inside one term: ``args:"order 1001"``;
- ``since:T`` ``until:T`` keep tasks whose newest event is at or after / at or before T
  (ISO 8601 or relative, ``since:2h``: core/journal/times.py); the journal's readers also
  take them as the time window of their store query (``time_bounds``).

Compiled once, a filter is a plain predicate, cheap enough to run over 100k tasks per keystroke.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from celerytui.core.model import Task

FIELDS = ("name", "state", "worker", "args", "queue")
TIME_FIELDS = ("since", "until")

TaskPredicate = Callable[[Task], bool]


class FilterError(ValueError):
    """A filter that cannot be compiled; the message is one line, fit for a status bar."""


def compile_filter(expr: str | None) -> TaskPredicate:
    """Compile ``expr`` into a predicate over Task; an empty expression matches every task."""
    terms = [_compile_term(token) for token in _tokenize(expr or "")]
    if not terms:
        return _match_all
    if len(terms) == 1:
        return terms[0]

    def match(task: Task) -> bool:
        return all(term(task) for term in terms)

    return match


def _match_all(task: Task) -> bool:
    return True


def _tokenize(expr: str) -> list[str]:
    """Split on whitespace; quotes group characters (and are removed); no escapes, so regex
    backslashes reach the regex untouched."""
    tokens: list[str] = []
    current: list[str] = []
    in_token = False
    quote: str | None = None
    for ch in expr:
        if quote:
            if ch == quote:
                quote = None
            else:
                current.append(ch)
        elif ch in "\"'":
            quote = ch
            in_token = True
        elif ch.isspace():
            if in_token:
                tokens.append("".join(current))
                current, in_token = [], False
        else:
            current.append(ch)
            in_token = True
    if quote:
        raise FilterError(f"unclosed quote {quote} in filter")
    if in_token:
        tokens.append("".join(current))
    return tokens


def _compile_term(token: str) -> TaskPredicate:
    negate = token.startswith("!")
    if negate:
        token = token[1:]
        if not token:
            raise FilterError("`!` must be followed by a term")
    field, sep, value = token.partition(":")
    field = field.lower()
    if sep and field in FIELDS:
        predicate = _field_predicate(field, value)
    elif sep and field in TIME_FIELDS:
        predicate = _time_predicate(field, _time(value))
    else:
        predicate = _text_predicate(_regex(token))
    if negate:
        return lambda task: not predicate(task)
    return predicate


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise FilterError(f"bad regex {pattern!r}: {exc}") from None


def _text_predicate(regex: re.Pattern[str]) -> TaskPredicate:
    search = regex.search

    def match(task: Task) -> bool:
        for text in (task.name, task.args, task.kwargs, task.uuid, task.exception):
            if text and search(text):
                return True
        return False

    return match


def _field_predicate(field: str, value: str) -> TaskPredicate:
    if field == "state":
        return _state_predicate(value)
    search = _regex(value).search
    if field == "name":
        return lambda task: bool(task.name and search(task.name))
    if field == "worker":
        return lambda task: bool(task.worker and search(task.worker))
    if field == "queue":
        return lambda task: bool(
            (task.queue and search(task.queue)) or (task.routing_key and search(task.routing_key))
        )
    # args: positional and keyword arguments alike
    return lambda task: bool(
        (task.args and search(task.args)) or (task.kwargs and search(task.kwargs))
    )


def _state_predicate(value: str) -> TaskPredicate:
    wanted = tuple(part.strip().upper() for part in re.split(r"[,|]", value) if part.strip())
    if not wanted:
        raise FilterError("state: needs a state, e.g. state:failure")

    def match(task: Task) -> bool:
        return task.state.upper().startswith(wanted)

    return match


def _time(value: str, now: float | None = None) -> float:
    from celerytui.core.journal.times import TimeError, parse_time

    try:
        return parse_time(value, now)
    except TimeError as exc:
        raise FilterError(str(exc)) from None


def _time_predicate(field: str, at: float) -> TaskPredicate:
    if field == "since":
        return lambda task: (task.timestamp or 0.0) >= at
    return lambda task: task.timestamp is not None and task.timestamp <= at


def time_bounds(expr: str | None, now: float | None = None) -> tuple[float | None, float | None]:
    """The (since, until) an expression's ``since:`` / ``until:`` terms ask for (None: not
    bounded); negated ones bound nothing. A store query takes them as its window."""
    since: float | None = None
    until: float | None = None
    for token in _tokenize(expr or ""):
        field, sep, value = token.partition(":")
        field = field.lower()
        if not sep or field not in TIME_FIELDS:
            continue
        at = _time(value, now)
        if field == "since":
            since = at if since is None else max(since, at)
        else:
            until = at if until is None else min(until, at)
    return since, until
