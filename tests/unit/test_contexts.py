"""Contexts: which [contexts.NAME] is in effect, what it overrides, and the ':' line's words."""

from __future__ import annotations

import pytest

from celerytui.config import ConfigError, known_contexts, load_settings
from celerytui.screens.command_words import (
    Command,
    CommandLineError,
    common_prefix,
    completions,
    parse,
)
from tests.support.settings_env import clean_settings_env  # noqa: F401 — fixture

pytestmark = pytest.mark.usefixtures("clean_settings_env")

CONFIG = """\
broker_url = "redis://top:6379/0"
max_tasks = 500
current_context = "staging"

[thresholds]
queue_backlog = 10

[contexts.staging]
broker_url = "redis://staging:6379/0"

[contexts.prod]
broker_url = "redis://:Pr0dSecret@prod:6379/0"
result_backend = "redis://:Pr0dSecret@prod:6379/1"
read_only = true
[contexts.prod.thresholds]
queue_backlog = 900
"""
SCREENS = ["dashboard", "tasks", "failures", "workers", "queues", "schedule"]


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    path.chmod(0o600)
    return str(path)


def test_current_context_then_env_then_flag_choose_and_override_the_top_level(config):
    staging = load_settings(config, env={})
    assert (staging.context, staging.broker_url) == ("staging", "redis://staging:6379/0")
    assert staging.max_tasks == 500  # the top level shows through what a context leaves out
    assert staging.source_of("context") == f"{config} current_context"

    prod = load_settings(config, env={"CELERYTUI_CONTEXT": "prod"})
    assert (prod.context, prod.broker_url, prod.read_only) == (
        "prod",
        "redis://:Pr0dSecret@prod:6379/0",
        True,
    )
    assert prod.thresholds.queue_backlog == 900
    assert prod.source_of("broker_url") == f"context prod ({config})"

    flagged = load_settings(config, env={"CELERYTUI_CONTEXT": "prod"}, context="staging")
    assert flagged.context == "staging"
    assert flagged.source_of("context") == "flag --context"
    assert known_contexts(config, env={}) == ["staging", "prod"]


def test_a_context_beats_the_environment_and_flags_beat_the_context(config):
    env = {"CELERY_BROKER_URL": "redis://ambient:6379/0", "CELERYTUI_MAX_TASKS": "7"}
    prod = load_settings(config, env=env, context="prod")
    assert prod.broker_url == "redis://:Pr0dSecret@prod:6379/0"
    assert prod.max_tasks == 7  # the context leaves it: the environment's value stays
    pinned = load_settings(config, env=env, context="prod", broker_url="redis://flag:6379/0")
    assert pinned.broker_url == "redis://flag:6379/0"


def test_read_only_only_tightens(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        'read_only = true\n[contexts.dev]\nbroker_url = "redis://dev:6379/0"\nread_only = false\n'
    )
    dev = load_settings(str(path), env={}, context="dev")
    assert dev.read_only is True
    assert dev.source_of("read_only") == str(path)
    loose = tmp_path / "loose.toml"
    loose.write_text('[contexts.dev]\nbroker_url = "redis://dev:6379/0"\nread_only = false\n')
    assert load_settings(str(loose), env={"CELERYTUI_READ_ONLY": "yes"}, context="dev").read_only


def test_an_unknown_context_is_one_line_naming_the_known_ones(config, tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={}, context="qa")
    assert str(caught.value) == "unknown context 'qa' (from flag --context); known: staging, prod"
    with pytest.raises(ConfigError, match=r"env CELERYTUI_CONTEXT\); known: staging, prod"):
        load_settings(config, env={"CELERYTUI_CONTEXT": "qa"})
    bare = tmp_path / "bare.toml"
    bare.write_text('broker_url = "redis://top:6379/0"\n')
    with pytest.raises(ConfigError, match=r"defines no \[contexts.NAME\]"):
        load_settings(str(bare), env={}, context="prod")
    hostile = "\x1b[2Jx"
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={}, context=hostile)
    assert "\x1b" not in str(caught.value) and "\\x1b" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[contexts.a]\nmax_taskz = 3\n", "max_taskz: unknown key, did you mean 'max_tasks'?"),
        ('[contexts.a]\nmax_tasks = "lots"\n', "max_tasks: expected an integer, got 'lots'"),
        ("contexts = 3\n", "contexts: expected [contexts.NAME] tables"),
        ("[contexts]\na = 3\n", "contexts.a: expected a table of settings"),
        ('[contexts.a]\ncurrent_context = "a"\n', "contexts.a.current_context: not allowed"),
        ("current_context = 5\n[contexts.a]\n", "current_context: expected a context name"),
    ],
)
def test_a_bad_context_table_is_one_line(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), env={}, context="a" if "current_context = 5" not in text else None)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_command_line_words_resolve_by_unique_prefix():
    contexts = ["staging", "prod", "prod-eu"]
    assert parse(":w", SCREENS, contexts) == Command("screen", "workers")
    assert parse("ta", SCREENS, contexts) == Command("screen", "tasks")
    assert parse(":ctx prod", SCREENS, contexts) == Command("context", "prod")
    assert parse(":context prod-eu", SCREENS, contexts) == Command("context", "prod-eu")
    assert parse(":ctx", SCREENS, contexts) == Command("contexts")
    assert parse(":q", SCREENS, contexts).kind == "quit"
    assert parse("  ", SCREENS, contexts) is None
    for text, message in [
        (":qu", "ambiguous command :'qu': :queues, :quit"),
        (":nope", "unknown command :'nope' (try :ctx NAME, :dashboard"),
        (":ctx qa", "unknown context 'qa'; known: staging, prod, prod-eu"),
        (":tasks now", ":tasks takes no argument"),
        (":\x1b[31m", "unknown command :'\\x1b[31m'"),
    ]:
        with pytest.raises(CommandLineError) as caught:
            parse(text, SCREENS, contexts)
        assert message in str(caught.value)


def test_completions_offer_contexts_then_screens():
    contexts = ["staging", "prod", "prod-eu"]
    assert completions("ctx pr", SCREENS, contexts) == ["ctx prod", "ctx prod-eu"]
    assert common_prefix(completions("ctx pr", SCREENS, contexts)) == "ctx prod"
    assert completions("c", SCREENS, contexts)[:3] == ["ctx staging", "ctx prod", "ctx prod-eu"]
    assert completions("w", SCREENS, contexts) == ["workers"]
    assert completions("q", SCREENS, contexts) == ["queues", "quit"]
    assert completions("tasks x", SCREENS, contexts) == []
