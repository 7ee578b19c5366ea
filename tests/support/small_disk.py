"""A full disk, for real: a small tmpfs (root only) and a filler that takes its last byte."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.services import service_missing


@contextmanager
def small_tmpfs(size: str = "2m") -> Iterator[Path]:
    """A tmpfs of `size`, unmounted afterwards (skipped without root or mount)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        service_missing("root, to mount a small tmpfs")
    where = Path(tempfile.mkdtemp(prefix="ctui-full-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        service_missing(f"a tmpfs mount ({done.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        shutil.rmtree(where, ignore_errors=True)


def fill(path: Path) -> None:
    """Take every free byte of the file system `path` is on (unbuffered: the write that
    finds the disk full raises here, not at close)."""
    with open(path, "wb", buffering=0) as filler:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    filler.write(b"\0" * size)
            except OSError:
                pass
