"""Shell completion (click's): the script bash sources, and bash completing a subcommand."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.commands import celerytui, command_env


def test_bash_completion_script_is_printed_and_completes_subcommands():
    script = celerytui(env=command_env(_CELERYTUI_COMPLETE="bash_source"))
    assert script.returncode == 0, script.stderr
    assert "complete -o nosort -F _celerytui_completion celerytui" in script.stdout
    for shell in ("zsh_source", "fish_source"):
        other = celerytui(env=command_env(_CELERYTUI_COMPLETE=shell))
        assert other.returncode == 0 and "celerytui" in other.stdout
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    # what bash does on `celerytui st<TAB>` and `celerytui serve --p<TAB>` once sourced
    env = command_env(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    probe = (
        'eval "$(_CELERYTUI_COMPLETE=bash_source celerytui)"\n'
        "COMP_WORDS=(celerytui st); COMP_CWORD=1; _celerytui_completion celerytui\n"
        'echo "${COMPREPLY[*]}"\n'
        "COMPREPLY=(); COMP_WORDS=(celerytui serve --p); COMP_CWORD=2\n"
        "_celerytui_completion celerytui\n"
        'echo "${COMPREPLY[*]}"\n'
    )
    done = subprocess.run(
        [bash, "--norc", "-c", probe], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    subcommands, options = done.stdout.splitlines()[-2:]
    assert subcommands.split() == ["status"]
    assert set(options.split()) == {"--port", "--public-url"}
