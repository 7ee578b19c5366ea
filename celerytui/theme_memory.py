"""The TUI's theme: the config's ``theme``, or the one last picked in the palette.

A pick from the palette ("Theme" in ctrl+p) is written to a small state file
(``theme.json`` in the platform's user state dir, never the user's config file), together
with the config's theme at the time. On the next start the pick wins while the config still
says what it said then; once the user edits ``theme`` in the config file, the file wins again.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from celerytui.config import ConfigError, Settings

STATE_FILE = "theme.json"


class ThemeError(ConfigError):
    """An unknown theme name: one line with close or common valid names."""


def default_state_path() -> Path:
    """``theme.json`` in the user state dir (``$XDG_STATE_HOME/celerytui`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_state_dir("celerytui")) / STATE_FILE


def theme_names() -> list[str]:
    """Every theme Textual ships (what ``theme =`` accepts)."""
    from textual.theme import BUILTIN_THEMES

    return sorted(BUILTIN_THEMES)


def check_theme(name: str, source: str = "config") -> str:
    """``name`` when Textual has that theme, else ThemeError naming some that it has."""
    names = theme_names()
    if name in names:
        return name
    close = difflib.get_close_matches(name, names, n=3)
    some = close or [n for n in ("textual-dark", "textual-light", "nord", "gruvbox") if n in names]
    raise ThemeError(
        f"theme: unknown theme {name!r}; try {', '.join(some)} (all: {len(names)} Textual "
        f"themes, ctrl+p Theme shows them) (from {source})"
    )


@dataclass
class ThemeMemory:
    """The palette's last pick, kept in ``path`` (JSON: the theme and the config's theme)."""

    path: Path

    @classmethod
    def default(cls) -> ThemeMemory:
        return cls(default_state_path())

    def recall(self, config_theme: str | None) -> str | None:
        """The remembered pick, if any and if the config's theme has not changed since."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("config_theme") != config_theme:
            return None
        theme = data.get("theme")
        return theme if isinstance(theme, str) and theme in theme_names() else None

    def remember(self, theme: str, config_theme: str | None) -> None:
        """Write the pick (atomically: a crash never leaves half a file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"theme": theme, "config_theme": config_theme})
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".theme-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def starting_theme(settings: Settings, memory: ThemeMemory | None) -> str | None:
    """The theme to start with (None: Textual's default); ThemeError for a bad config name."""
    configured = settings.theme
    if configured is not None:
        check_theme(configured, settings.source_of("theme"))
    remembered = memory.recall(configured) if memory is not None else None
    return remembered or configured
