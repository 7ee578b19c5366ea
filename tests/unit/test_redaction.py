"""celerytui.redaction: no URL shape shows its secret, and the host (and user) stay readable."""

from __future__ import annotations

import pytest

from celerytui.redaction import (
    one_line,
    redact,
    redact_text,
    redact_webhook,
    url_secrets,
    webhook_secrets,
)
from tests.support.secret_urls import SHAPES, leaks

HOST, PORT = "broker.internal", 5999
SHAPE_IDS = [shape.id for shape in SHAPES]


def _host(shape) -> str:
    return "[::1]" if shape.id == "ipv6" else HOST


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_redact_hides_every_secret_and_keeps_host_and_user(shape):
    shown = redact(shape.url(HOST, PORT))
    assert leaks(shape, shown) == [], shown
    assert f"{_host(shape)}:{PORT}" in shown
    for text in shape.shown:
        assert text in shown
    assert ("****" in shown) == bool(shape.secrets)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_free_text_around_a_url_keeps_its_words(shape):
    url = shape.url(HOST, PORT)
    text = f"Error 111 connecting to {url}. Connection refused.\nsee 'repr={url!r}', then retry"
    shown = redact_text(text)
    assert leaks(shape, shown) == [], shown
    assert shown.startswith("Error 111 connecting to ") and shown.endswith(", then retry")
    assert "\n" in shown and shown.count(f"{_host(shape)}:{PORT}") >= 2


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_one_line_of_an_exception_hides_the_secret(shape):
    url = shape.url(HOST, PORT)
    line = one_line(ConnectionError(f"cannot reach {url}\n  at line 2"), with_type=True)
    assert leaks(shape, line) == [], line
    assert line.startswith("ConnectionError: cannot reach ") and "line 2" not in line


@pytest.mark.parametrize("shape", [s for s in SHAPES if s.secrets], ids=lambda s: s.id)
def test_url_secrets_name_each_password_so_a_bare_parser_error_is_scrubbed(shape):
    url = shape.url(HOST, PORT)
    password = (
        shape.secrets[0].rpartition("@")[0] if shape.id == "failover-list" else shape.secrets[-1]
    )
    if shape.id == "query-tokens":
        return  # no userinfo: the query masking covers it
    error = ValueError(f"Port could not be cast to integer value as {password.split('/')[0]!r}")
    assert leaks(shape, one_line(error, secrets=url_secrets(url))) == []


def test_kombu_list_form_is_one_failover_line():
    shown = redact(["amqp://a:Li1Secret@h1//", "amqp://b:Li2@Secret@h2//"])
    assert shown == "amqp://a:****@h1//;amqp://b:****@h2//"


def test_a_list_repr_without_spaces_masks_each_url():
    text = str(["redis://:Rp1Secret@h1/0", "redis://u:Rp2Secret@h2/0"]).replace(" ", "")
    assert redact_text(text) == "['redis://:****@h1/0','redis://u:****@h2/0']"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T000/B000/XXXXSECRET", "https://hooks.slack.com/****"),
        ("http://127.0.0.1:8080/hook?token=Wt1Secret", "http://127.0.0.1:8080/****"),
        ("https://user:Wp2Secret@alerts.example/", "https://alerts.example"),
        ("https://alerts.example", "https://alerts.example"),
        ("https://[::1]:9000/x/Wt3Secret", "https://[::1]:9000/****"),
        ("not a url Wt4Secret", "****"),
        ("", ""),
    ],
)
def test_webhook_shows_scheme_and_host_only(url, shown):
    assert redact_webhook(url) == shown


def test_webhook_secrets_scrub_what_an_http_library_says():
    url = "http://127.0.0.1:1/hooks/Wh5Secret?token=Wh6Secret"
    message = (
        "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
        "/hooks/Wh5Secret?token=Wh6Secret (Caused by refused)"
    )
    line = one_line(message, secrets=webhook_secrets(url))
    assert "Wh5Secret" not in line and "Wh6Secret" not in line
    assert line.startswith("HTTPConnectionPool(host='127.0.0.1', port=1)")


def test_control_characters_cannot_break_the_line():
    assert redact("redis://:Cc1Secret@h\nInjected\x1b[2J") == "redis://:****@h?Injected?[2J"


@pytest.mark.parametrize("value", [None, 12345, b"redis://:By1Secret@h", object()])
def test_never_raises_on_odd_values(value):
    for fn in (redact, redact_text, redact_webhook, one_line):
        assert isinstance(fn(value), str) and "By1Secret" not in fn(value)
    assert isinstance(url_secrets(value), list) and isinstance(webhook_secrets(value), list)


def test_unprintable_values_become_a_placeholder():
    class Hostile:
        def __str__(self):
            raise RuntimeError("boom")

    assert redact(Hostile()) == redact_text(Hostile()) == one_line(Hostile()) == "<unprintable>"
    assert url_secrets(Hostile()) == []


def test_one_line_cuts_after_masking():
    line = one_line("x" * 290 + " redis://:Cut1Secret@host/0", limit=300)
    assert "Cut1" not in line and len(line) == 300


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_redacting_twice_changes_nothing(shape):
    once = redact_text(f"bad broker URL {shape.url(HOST, PORT)}: refused")
    assert redact_text(once) == once and once.endswith(": refused")
