"""Record types of the settings that config.py and config_checks.py both build.

Kept apart so config_checks (which validates them) does not import config (which uses the
checks): ``celerytui.config`` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class DiskHost:
    """One SSH disk-check host. ``name`` is what tasks are called with (``local`` = no SSH)."""

    name: str
    host: str | None = None  # defaults to name
    port: int = 22
    user: str = "monitor"
    key_file: str | None = None
    known_hosts: str | None = None  # defaults to ~/.ssh/known_hosts
    accept_unknown_host_key: bool = False
    path: str = "/"
    timeout: float = 10.0
