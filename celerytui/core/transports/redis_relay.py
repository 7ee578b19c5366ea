"""The relay for the Redis fast lane: a tiny process of its own (stdlib only) that owns the
subscribed Redis socket, so a busy GIL in the monitor never lets Redis cut the subscriber off.
Used by celerytui.core.transports.redis_lane; figures in benchmarks/firehose.py.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from typing import Any

# The relay: a tiny process of its own (stdlib only) that owns nothing but the subscribed Redis
# socket. It reads from Redis the moment bytes arrive and queues them in its memory until we
# read them from a socketpair. Our process shares one GIL between the receiver, its decoder and
# the consumer (ClusterState.apply); under a flood, a pump thread waiting for that GIL let
# Redis's output buffer reach its 32 MB limit. The relay never waits for our GIL.
RELAY_SOURCE = """
import collections, os, select, sys, time
src, dst, ctl, limit = (int(a) for a in sys.argv[1:5])
for fd in (src, dst, ctl):
    os.set_blocking(fd, False)
queue, size, eof, told, told_at = collections.deque(), 0, False, 0, 0.0
while not (eof and not queue):
    rl = [dst] + ([src] if not eof and size < limit else [])
    r, w, _ = select.select(rl, [dst] if queue else [], [], 1.0)
    if src in r:
        while size < limit:
            try:
                data = os.read(src, 4 << 20)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                eof = True
                break
            queue.append(memoryview(data))
            size += len(data)
    if dst in r:
        try:
            if not os.read(dst, 1):
                break
        except BlockingIOError:
            pass
        except OSError:
            break
    while queue:
        try:
            n = os.write(dst, queue[0])
        except BlockingIOError:
            break
        except OSError:
            sys.exit(0)
        size -= n
        if n < len(queue[0]):
            queue[0] = queue[0][n:]
            break
        queue.popleft()
    now = time.monotonic()
    if size != told and now - told_at > 0.02:
        try:
            os.write(ctl, b"%d\\n" % size)
            told, told_at = size, now
        except OSError:
            pass
"""


class RedisRelay:
    """Hands the subscribed socket to the relay process; we read its end of a socketpair, and
    a second socketpair tells us how many bytes the relay holds (its backlog)."""

    def __init__(self, redis_sock: socket.socket, limit: int) -> None:
        self.sock, theirs = socket.socketpair()
        self.ctl, their_ctl = socket.socketpair()
        self._backlog = 0
        try:
            fds = (redis_sock.fileno(), theirs.fileno(), their_ctl.fileno())
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", RELAY_SOURCE, *map(str, fds), str(limit)],
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
        except Exception:
            self.sock.close()
            self.ctl.close()
            raise
        finally:
            theirs.close()
            their_ctl.close()
        self.sock.setblocking(False)
        self.ctl.setblocking(False)

    @staticmethod
    def possible(redis_sock: Any) -> bool:
        """A plain socket (TLS state cannot move to another process) on a POSIX system."""
        return os.name == "posix" and type(redis_sock) is socket.socket

    def backlog(self) -> int:
        """Bytes the relay holds for us, as it last said (it reports every 20 ms at most)."""
        try:
            report = self.ctl.recv(1 << 16)
        except OSError:  # nothing new (BlockingIOError), or the relay is gone
            return self._backlog
        lines = report.split(b"\n")
        if len(lines) >= 2 and lines[-2].isdigit():
            self._backlog = int(lines[-2])
        return self._backlog

    def close(self) -> None:
        """Close our ends (the relay exits on it) and reap the process."""
        _close_quietly(self.sock)
        _close_quietly(self.ctl)
        try:
            self.proc.wait(1.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(1.0)


def _close_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
