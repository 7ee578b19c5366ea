"""The journal's errors: each is one line, with store URLs redacted, for a user to read."""

from __future__ import annotations


class JournalError(Exception):
    """Anything wrong with a journal store (cannot open, cannot write, bad data)."""


class JournalSchemaError(JournalError):
    """The store was made by a newer celerytui (or is no journal at all)."""


class JournalLeaseError(JournalError):
    """Another writer holds the store's lease (one writer per store)."""

    def __init__(self, message: str, holder: str = "") -> None:
        super().__init__(message)
        self.holder = holder


class JournalWriteError(JournalError):
    """A write failed (disk full, database gone); what was not written is still buffered."""
