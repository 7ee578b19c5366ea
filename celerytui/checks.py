"""The monitoring probes behind the check tasks: HTTP, disk over SSH, and df parsing.

Kept apart from tasks.py so they can be tested and reused without a Celery app. Every probe
returns a result dict and never raises: a monitoring task that crashes tells the user less than
one that says "DOWN" or "ERROR" with a one-line reason.
"""

from __future__ import annotations

import logging
import re
import shlex
import socket
import subprocess
import time
from typing import Any

# the check tasks' names, shared with the monitor (re-exported here for the worker side)
from celerytui.cluster_spec import DISK_CHECK_TASK as DISK_CHECK_TASK
from celerytui.cluster_spec import HTTP_CHECK_TASK as HTTP_CHECK_TASK
from celerytui.cluster_spec import LOCAL_HOST
from celerytui.config import DiskHost
from celerytui.redaction import one_line, redact

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- HTTP


def probe_http(url: str, timeout: float = 10.0) -> dict[str, Any]:
    """GET url once: UP on a 2xx/3xx answer, DOWN on anything else or no answer."""
    import requests

    url = str(url)
    shown = redact(url)
    start = time.monotonic()
    try:
        resp = requests.get(url, timeout=timeout, allow_redirects=True)
    except requests.Timeout:
        return _http_down(shown, start, f"timed out after {timeout:g}s")
    except requests.ConnectionError as exc:
        return _http_down(shown, start, f"connection failed: {_root_reason(exc)}")
    except (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
        return _http_down(shown, start, f"invalid URL {shown!r}: needs http:// or https://")
    except requests.exceptions.InvalidURL:
        return _http_down(shown, start, f"invalid URL {shown!r}")
    except requests.RequestException as exc:
        return _http_down(shown, start, f"request failed: {_root_reason(exc)}")
    elapsed = time.monotonic() - start
    result = {
        "url": shown,
        "status": "UP" if resp.ok else "DOWN",
        "status_code": resp.status_code,
        "response_time": round(elapsed, 6),
    }
    if not resp.ok:
        result["error"] = f"HTTP {resp.status_code} {resp.reason or ''}".strip()
    return result


def _http_down(url: str, start: float, error: str) -> dict[str, Any]:
    return {
        "url": url,
        "status": "DOWN",
        "status_code": None,
        "response_time": round(time.monotonic() - start, 6),
        "error": error,
    }


def _root_reason(exc: BaseException) -> str:
    """The innermost OS-level reason (e.g. "Connection refused") instead of urllib3's essay."""
    seen = set()
    cur: BaseException | None = exc
    reason = None
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.strerror:
            reason = cur.strerror
        if isinstance(cur, socket.gaierror):
            reason = f"cannot resolve host ({cur.strerror})"
        nxt = getattr(cur, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = (
                cur.args[0]
                if cur.args and isinstance(cur.args[0], BaseException)
                else cur.__cause__ or cur.__context__
            )
        cur = nxt
    if reason:
        return reason
    return one_line(exc, limit=200)


# --------------------------------------------------------------------------- df parsing

_DF_LINE = re.compile(
    r"^(?P<fs>\S.*?)\s+(?P<size>\d+)\s+(?P<used>\d+)\s+(?P<avail>\d+)\s+"
    r"(?P<pct>\d+%|-)\s+(?P<mount>/.*?)\s*$"
)
_BLOCK_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "KB": 1000, "MB": 1000**2}


def _block_size(header: str) -> int:
    """Bytes per block from df's header ("1-blocks", "1B-blocks", "1024-blocks", "1K-blocks")."""
    m = re.search(r"(\d+)([A-Za-z]*)-blocks", header)
    if not m:
        return 1
    unit = _BLOCK_UNITS.get(m.group(2).upper())
    if unit is None:
        raise ValueError(f"df output has an unknown block size {m.group(0)!r}")
    return int(m.group(1)) * unit


def parse_disk_output(output: str, mount: str | None = None) -> dict[str, Any]:
    """Parse POSIX `df -P` output (any block size) into byte counts.

    Picks the line mounted at `mount` when given; else the only line, else the one on "/",
    else the first. A filesystem name too long for its column (plain `df` wraps it onto a line
    of its own) is joined back. Raises ValueError with a one-line reason on anything else.
    """
    if not isinstance(output, str) or not output.strip():
        raise ValueError("df output is empty")
    lines = [ln.rstrip() for ln in output.splitlines() if ln.strip()]
    header = lines[0]
    if not header.lower().startswith("filesystem"):
        raise ValueError(f"df output has no header line (got {header[:60]!r})")
    block = _block_size(header)
    rows: list[dict[str, Any]] = []
    pending_fs: str | None = None
    for line in lines[1:]:
        if pending_fs is not None:
            line = f"{pending_fs} {line.strip()}"
            pending_fs = None
        m = _DF_LINE.match(line)
        if m is None:
            if len(line.split()) == 1:  # a wrapped filesystem name; its numbers follow
                pending_fs = line.strip()
                continue
            raise ValueError(f"cannot parse df line {line[:80]!r}")
        size, used, avail = (int(m.group(k)) * block for k in ("size", "used", "avail"))
        pct = m.group("pct")
        if pct == "-":
            use_percent = round(100.0 * used / (used + avail), 1) if used + avail else 0.0
        else:
            use_percent = float(pct.rstrip("%"))
        rows.append(
            {
                "filesystem": m.group("fs"),
                "size_bytes": size,
                "used_bytes": used,
                "avail_bytes": avail,
                "use_percent": use_percent,
                "mount": m.group("mount"),
            }
        )
    if pending_fs is not None:
        raise ValueError(f"df output ends after filesystem {pending_fs!r} with no numbers")
    if not rows:
        raise ValueError("df output has a header but no filesystem lines")
    if mount is not None:
        for row in rows:
            if row["mount"] == mount:
                return row
        raise ValueError(f"df output has no filesystem mounted at {mount!r}")
    if len(rows) == 1:
        return rows[0]
    return next((r for r in rows if r["mount"] == "/"), rows[0])


# --------------------------------------------------------------------------- disk probe


def df_command(path: str) -> str:
    """The shell command run on the host: bytes where GNU df allows, else POSIX kilobytes."""
    quoted = shlex.quote(path)
    return f"df -P -B1 -- {quoted} 2>/dev/null || df -P -k -- {quoted}"


def find_disk_host(hosts: list[DiskHost], name: str) -> DiskHost | None:
    """The configured host called `name`; `local` works even when not configured."""
    for host in hosts:
        if host.name == name:
            return host
    if name == LOCAL_HOST:
        return DiskHost(name=LOCAL_HOST)
    return None


def probe_disk(hosts: list[DiskHost], name: str, path: str | None = None) -> dict[str, Any]:
    """df on a configured host (over SSH, host key verified) or on `local`; never raises."""
    host = find_disk_host(hosts, name)
    if host is None:
        known = ", ".join(sorted({h.name for h in hosts} | {LOCAL_HOST}))
        return disk_error(name, f"unknown disk host {name!r} (configured: {known})")
    path = path or host.path or "/"
    try:
        if host.name == LOCAL_HOST and host.host is None:
            output = _run_local_df(path, host.timeout)
        else:
            output = run_ssh_df(host, path)
        result = parse_disk_output(output)
    except DiskProbeError as exc:
        return disk_error(name, str(exc))
    except ValueError as exc:
        return disk_error(name, f"unexpected df output: {exc}")
    return {"host": name, "status": "OK", **result}


def disk_error(name: str, error: str) -> dict[str, Any]:
    return {
        "host": name,
        "status": "ERROR",
        "filesystem": None,
        "size_bytes": None,
        "used_bytes": None,
        "avail_bytes": None,
        "use_percent": None,
        "mount": None,
        "error": error,
    }


class DiskProbeError(Exception):
    """One-line, secret-free reason a disk probe could not run."""


def _run_local_df(path: str, timeout: float) -> str:
    try:
        proc = subprocess.run(
            ["sh", "-c", df_command(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DiskProbeError(f"df timed out after {timeout:g}s") from None
    if proc.returncode != 0:
        raise DiskProbeError(_first_line(proc.stderr) or f"df exited {proc.returncode}")
    return proc.stdout


def _first_line(text: str) -> str:
    return one_line(next((ln for ln in text.splitlines() if ln.strip()), ""), limit=200)


def _accept_unknown_policy():
    """A paramiko policy made here, lazily, so importing checks does not load paramiko."""
    import paramiko

    class AcceptUnknownOnce(paramiko.MissingHostKeyPolicy):
        """Trust an unknown host key for this connection only (logged, never saved)."""

        def missing_host_key(self, client, hostname, key) -> None:
            log.warning(
                "accepting unknown %s host key %s for %s (accept_unknown_host_key)",
                key.get_name(),
                key.fingerprint,
                hostname,
            )

    return AcceptUnknownOnce()


def run_ssh_df(host: DiskHost, path: str) -> str:
    """Run df over SSH. The host key must be in known_hosts unless the host's config accepts
    unknown keys (then it is accepted for this connection only, with a warning in the log)."""
    import os

    import paramiko

    address = host.host or host.name
    where = f"{host.user}@{address}:{host.port}"
    client = paramiko.SSHClient()
    known_hosts = os.path.expanduser(host.known_hosts or "~/.ssh/known_hosts")
    try:
        if os.path.exists(known_hosts):
            client.load_host_keys(known_hosts)
        client.set_missing_host_key_policy(
            _accept_unknown_policy() if host.accept_unknown_host_key else paramiko.RejectPolicy()
        )
        key_file = os.path.expanduser(host.key_file) if host.key_file else None
        try:
            client.connect(
                address,
                port=host.port,
                username=host.user,
                key_filename=key_file,
                timeout=host.timeout,
                banner_timeout=host.timeout,
                auth_timeout=host.timeout,
                channel_timeout=host.timeout,
                allow_agent=False,
                look_for_keys=key_file is None,
            )
        except paramiko.BadHostKeyException:
            raise DiskProbeError(
                f"host key of {address}:{host.port} does not match "
                f"{known_hosts} (possible man-in-the-middle)"
            ) from None
        except paramiko.AuthenticationException:
            raise DiskProbeError(f"SSH authentication failed for {where}") from None
        except TimeoutError:
            raise DiskProbeError(f"timed out connecting to {address}:{host.port}") from None
        except paramiko.SSHException as exc:
            if "not found in known_hosts" in str(exc):
                raise DiskProbeError(
                    f"unknown host key for {address}:{host.port} (not in {known_hosts}; add it "
                    "with ssh-keyscan, or set accept_unknown_host_key for this host)"
                ) from None
            raise DiskProbeError(f"SSH error with {where}: {_first_line(str(exc))}") from None
        except FileNotFoundError as exc:
            raise DiskProbeError(f"cannot read SSH key file {exc.filename}") from None
        except OSError as exc:
            # paramiko's NoValidConnectionsError keeps the per-address errors in .errors
            inner = next(iter(getattr(exc, "errors", {}).values()), exc)
            reason = (
                getattr(inner, "strerror", None)
                or exc.strerror
                or _first_line(str(exc))
                or type(exc).__name__
            )
            raise DiskProbeError(f"cannot connect to {address}:{host.port}: {reason}") from None
        try:
            _stdin, stdout, stderr = client.exec_command(df_command(path), timeout=host.timeout)
            output = stdout.read().decode(errors="replace")
            err = stderr.read().decode(errors="replace")
            status = stdout.channel.recv_exit_status()
        except TimeoutError:
            raise DiskProbeError(f"df on {address} timed out after {host.timeout:g}s") from None
        except paramiko.SSHException as exc:
            raise DiskProbeError(f"SSH error with {where}: {_first_line(str(exc))}") from None
        if status != 0:
            raise DiskProbeError(f"df on {address} failed: {_first_line(err) or status}")
        return output
    finally:
        client.close()
