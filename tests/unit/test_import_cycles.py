"""No import cycles through the state engine or the settings: read from the source itself.

Every import counts, also those under TYPE_CHECKING and those inside functions (an import
cycle there is still one module needing the other back).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "celerytui"
CHECKED = (
    "celerytui.core.state",
    "celerytui.core.state_events",
    "celerytui.core.state_workers",
    "celerytui.core.state_parts",
    "celerytui.core.event_fields",
    "celerytui.config",
    "celerytui.config_checks",
    "celerytui.settings_model",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that `path` imports (`from a import b` counts a.b if a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found & modules


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: _imports(path, modules) - {name} for name, path in paths.items()}


def _cycle_through(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path start -> ... -> start, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        name, path = stack.pop()
        for nxt in graph.get(name, ()):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_module_of_the_package_is_on_an_import_cycle() -> None:
    graph = _graph()
    cycles = [path for name in sorted(graph) if (path := _cycle_through(name, graph))]
    assert cycles == []


@pytest.mark.parametrize("module", CHECKED)
def test_module_is_on_no_import_cycle(module: str) -> None:
    graph = _graph()
    assert module in graph
    assert _cycle_through(module, graph) is None
