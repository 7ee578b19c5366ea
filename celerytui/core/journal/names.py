"""The `names` table: task names, states, worker hostnames and queues as small ints, so a
task row holds 1-2 bytes for each instead of the text (and its indexes too).

The states have fixed ids (the migration writes them), so a partial index can name the
failure states in its WHERE clause. Other names get the next id from the one writer; a
reader learns new ones when it meets an id it does not know.
"""

from __future__ import annotations

from celerytui.core.journal.db import Db

# fixed ids of the states: the migration to schema 2 inserts them
STATE_IDS = {
    "PENDING": 1,
    "RECEIVED": 2,
    "STARTED": 3,
    "SUCCESS": 4,
    "FAILURE": 5,
    "RETRY": 6,
    "REVOKED": 7,
    "REJECTED": 8,
    "LOST": 9,
    "IGNORED": 10,
}
FIRST_FREE = 16  # ids below are kept for states (ids up to 127 take one byte)
# the states the partial indexes hold: what the Failures screen and failure searches read
TROUBLE = ("FAILURE", "RETRY", "REVOKED", "REJECTED", "LOST")
TROUBLE_SQL = "state IN (" + ", ".join(str(STATE_IDS[s]) for s in TROUBLE) + ")"
# the other rows: tasks in flight (and any state celerytui has no id of), few at a time
LIVE_SQL = "state NOT IN (" + ", ".join(str(STATE_IDS[s]) for s in TROUBLE) + ")"


def seed_statements() -> list[str]:
    return [
        f"INSERT INTO names (id, value) VALUES ({i}, '{s}') ON CONFLICT DO NOTHING"
        for s, i in STATE_IDS.items()
    ]


class Names:
    """Both directions of the `names` table, cached; `pending` are ids given out and not
    yet committed (`rollback` forgets them when their flush failed)."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self.ids: dict[str, int] = {}
        self.texts: dict[int, str] = {}
        self.pending: list[tuple[int, str]] = []
        self._next = FIRST_FREE

    def load(self) -> None:
        known = max(self.texts, default=0)
        for i, value in self.db.execute("SELECT id, value FROM names WHERE id > ?", (known,)):
            self.ids[value] = int(i)
            self.texts[int(i)] = value
        self._next = max(FIRST_FREE, max(self.texts, default=0) + 1)

    def intern(self, text: str | None) -> int | None:
        """The id of `text`, a new one when it has none (writer only)."""
        if text is None:
            return None
        found = self.ids.get(text)
        if found is not None:
            return found
        i = self._next
        self._next += 1
        self.ids[text] = i
        self.texts[i] = text
        self.pending.append((i, text))
        return i

    def write_pending(self) -> None:
        if self.pending:
            self.db.executemany("INSERT INTO names (id, value) VALUES (?, ?)", self.pending)

    def committed(self) -> None:
        self.pending.clear()

    def rollback(self) -> None:
        for i, text in self.pending:
            self.ids.pop(text, None)
            self.texts.pop(i, None)
        self.pending.clear()
        self._next = max(FIRST_FREE, max(self.texts, default=0) + 1)

    def text(self, i: int | None) -> str | None:
        if i is None:
            return None
        found = self.texts.get(i)
        if found is None:
            self.load()  # written since this reader looked
            found = self.texts.get(i)
        return found

    def lookup(self, text: str) -> int | None:
        """The id of a known name, or None (reader side: nothing has that name)."""
        found = self.ids.get(text)
        if found is None:
            self.load()
            found = self.ids.get(text)
        return found
