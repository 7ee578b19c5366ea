"""The events after a seek's last checkpoint, read on a thread of their own while the
checkpoints load.

A seek loads its checkpoint chain (core/state_snapshot.py), then applies the events after
the last checkpoint (up to ~20k with 100k tasks). Reading those (SQLite) and inflating them
(zlib) both let go of the GIL, so they need not wait for the chain: ``ReadAhead`` does them
meanwhile, and the rebuild only decodes and applies. At most ``most`` events are read ahead;
the rest (a target far past its checkpoint) come from the same iterator, on the thread that
asks for them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from celerytui.core.journal.chunks import Chunk

READ_AHEAD = 50_000  # events read ahead at most (~2.5 checkpoints' worth at 100k tasks)

Piece = Chunk | list[dict[str, Any]]  # as JournalStore.iter_chunks gives them


class ReadAhead:
    """``pieces`` read (and chunks inflated) from now on, on a thread, up to ``most`` events."""

    def __init__(self, pieces: Iterator[Piece], most: int = READ_AHEAD) -> None:
        self._pieces = pieces
        self._most = most
        self._read: list[Piece] = []
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="celerytui-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        n = 0
        try:
            while n < self._most and not self._stop.is_set():
                piece = next(self._pieces, None)
                if piece is None:
                    return
                if isinstance(piece, Chunk):
                    piece.inflate()
                    n += piece.n
                else:
                    n += len(piece)
                self._read.append(piece)
        except BaseException as exc:  # raised on the thread that reads the pieces
            self._error = exc

    def pieces(self) -> Iterator[Piece]:
        """Every piece, in order: those read ahead, then the rest read here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        read, self._read = self._read, []
        yield from read
        yield from self._pieces

    def cancel(self) -> None:
        """Not needed after all: stop reading (returns once the thread has)."""
        self._stop.set()
        self._thread.join()
