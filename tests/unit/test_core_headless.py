"""The core stays headless: the exporter, `status` and `tail` run it without Textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import celerytui.core

CORE_MODULES = sorted(
    m.name for m in pkgutil.walk_packages(celerytui.core.__path__, "celerytui.core.")
)


def test_every_core_module_imports_without_textual():
    assert "celerytui.core.state" in CORE_MODULES and len(CORE_MODULES) >= 10
    assert "celerytui.core.transports.redis_lane" in CORE_MODULES
    code = (
        f"import sys; import {', '.join(CORE_MODULES)}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
        timeout=60,
    )
    assert "textual" not in out.stdout, out.stdout


def test_no_core_source_mentions_a_textual_import():
    core = Path(celerytui.core.__file__).parent
    offenders = [
        p.name
        for p in core.rglob("*.py")
        if any(
            line.lstrip().startswith(("import textual", "from textual"))
            for line in p.read_text().splitlines()
        )
    ]
    assert offenders == []
