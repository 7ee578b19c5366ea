"""The settings of the beat, queue-wait and webhook block: read from the environment like the
rest, one line naming the key for a bad value, and the webhooks' tokens never shown by
`celerytui config` or a settings repr."""

from __future__ import annotations

import pytest

from celerytui.cli import settings_rows
from celerytui.config import ConfigError, load_settings

TOKEN = "T0KEN-s3cret"


def _load(**env: str):
    return load_settings(env={"XDG_CONFIG_HOME": "/nonexistent-celerytui-test", **env})


def test_the_block_comes_from_the_environment():
    settings = _load(
        CELERYTUI_ALERT_WEBHOOKS=f"https://hooks.example.com/{TOKEN},https://b.example.com/x",
        CELERYTUI_ALERT_RESEND="120",
        CELERYTUI_THRESHOLDS_BEAT_GRACE="30",
        CELERYTUI_THRESHOLDS_BEAT_GRACE_SHARE="0.25",
        CELERYTUI_THRESHOLDS_BEAT_LATE="5",
        CELERYTUI_THRESHOLDS_QUEUE_OLDEST="90",
    )
    t = settings.thresholds
    assert (t.beat_grace, t.beat_grace_share, t.beat_late, t.queue_oldest) == (30, 0.25, 5, 90)
    assert settings.alert_resend == 120 and len(settings.alert_webhooks) == 2
    rows = {key: value for key, value, _source in settings_rows(settings)}
    assert rows["alert_webhooks"] == "https://hooks.example.com/****, https://b.example.com/****"
    assert TOKEN not in repr(settings) and TOKEN not in str(rows)


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"CELERYTUI_THRESHOLDS_BEAT_GRACE_SHARE": "2"},
            "thresholds.beat_grace_share: expected a fraction between 0 and 1",
        ),
        ({"CELERYTUI_THRESHOLDS_QUEUE_OLDEST": "-1"}, "thresholds.queue_oldest: "),
        ({"CELERYTUI_ALERT_WEBHOOKS": "ftp://x/"}, "alert_webhooks[0]: expected an http://"),
        ({"CELERYTUI_ALERT_RESEND": "soon"}, "alert_resend: "),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(env, line):
    with pytest.raises(ConfigError) as caught:
        _load(**env)
    message = str(caught.value)
    assert message.startswith(line) and "\n" not in message
    assert f"(from env {next(iter(env))})" in message
