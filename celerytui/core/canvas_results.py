"""A group's members as a Redis result backend stores them.

Each stored meta (``celery-task-meta-<id>``) names the task's ``group_id`` whenever its request
had a group (a finished task; a running one too when the workers track STARTED). A chord's
header also leaves ``<group key>.s`` (its size) and ``<group key>.j`` (the parts returned so
far, ``[1, id, state, result]`` each); a saved GroupResult (``celery-taskset-meta-<gid>``) lists
every member. Nothing indexes metas by group, so the metas read are those of the tasks the
caller names (the monitor's candidates), in MGETs of ``CHUNK``, on a client of our own with
short timeouts. Other backends: nothing is read (``readable`` False).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from celery import Celery

from celerytui.core.short_lived import short_lived
from celerytui.core.transports import pushes_results
from celerytui.redaction import one_line

CHUNK = 500
JOIN_LIMIT = 5000  # chord parts read from `.j` at most


class ResultReadError(Exception):
    """The result backend could not be read (one line, no secrets)."""


@dataclass(slots=True)
class GroupResults:
    """What the backend says of one group."""

    metas: dict[str, dict[str, Any]] = field(default_factory=dict)  # member id -> its meta
    chord_size: int | None = None
    saved_ids: list[str] = field(default_factory=list)  # a saved GroupResult's members
    joined: dict[str, str] = field(default_factory=dict)  # chord part id -> state


def results_readable(app: Celery) -> bool:
    return pushes_results(app.conf.result_backend or "") and hasattr(app.backend, "connparams")


class ResultReader:
    """One short session on a Redis result backend."""

    def __init__(self, app: Celery, timeout: float = 1.0) -> None:
        self.backend = app.backend
        self.timeout = max(timeout, 0.5)

    @contextmanager
    def session(self) -> Iterator[ResultReader]:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        params = dict(self.backend.connparams)
        params.update(
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
        )
        params.pop("max_connections", None)
        with short_lived():  # garbage once read: the freezer waits (as for bounded_connection)
            pool = redis.ConnectionPool(**params)
            self.client = redis.Redis(connection_pool=pool)
            try:
                yield self
            except ResultReadError:
                raise
            except Exception as exc:
                raise ResultReadError(f"result backend: {one_line(exc)}") from None
            finally:
                with suppress(Exception):
                    pool.disconnect()

    def metas(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored metas of these tasks (those stored), decoded."""
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            values = self.client.mget([self.backend.get_key_for_task(t) for t in chunk])
            for task_id, raw in zip(chunk, values, strict=True):
                meta = self._decode(raw)
                if isinstance(meta, dict):
                    out[task_id] = meta
        return out

    def group(self, group_id: str) -> GroupResults:
        """The group's own keys: chord size, chord parts returned, a saved GroupResult."""
        found = GroupResults()
        key = self.backend.get_key_for_group
        size = self.client.get(key(group_id, ".s"))
        with suppress(TypeError, ValueError):
            found.chord_size = int(size) if size is not None else None
        saved = self._decode(self.client.get(key(group_id)))
        if isinstance(saved, dict):
            found.saved_ids = _saved_ids(saved.get("result"))
        join_key = key(group_id, ".j")
        kind = self.client.type(join_key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        parts: list[Any] = []
        if kind == "list":
            parts = self.client.lrange(join_key, 0, JOIN_LIMIT - 1)
        elif kind == "zset":
            parts = self.client.zrange(join_key, 0, JOIN_LIMIT - 1)
        for raw in parts:
            part = self._decode(raw)
            if (
                isinstance(part, list)
                and len(part) >= 3
                and isinstance(part[1], str)
                and isinstance(part[2], str)
            ):
                found.joined[part[1]] = part[2]
        return found

    def _decode(self, raw: Any) -> Any:
        if raw is None:
            return None
        try:
            return self.backend.decode(raw)
        except Exception:
            return None


def _saved_ids(result: Any) -> list[str]:
    """Member ids of a saved GroupResult's ``as_tuple()``: ((gid, parent), [((id, p), ..)])."""
    if not isinstance(result, list | tuple) or len(result) < 2:
        return []
    members = result[1]
    out: list[str] = []
    for entry in members[:JOIN_LIMIT] if isinstance(members, list | tuple) else ():
        head = entry[0] if isinstance(entry, list | tuple) and entry else None
        if isinstance(head, list | tuple) and head and isinstance(head[0], str):
            out.append(head[0])
    return out
