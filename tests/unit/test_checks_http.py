"""probe_http against a real local HTTP server, a closed port and a silent one."""

from __future__ import annotations

import socket

from celerytui.checks import probe_http
from tests.support.services import free_port


def test_200_is_up_with_a_response_time(httpserver):
    httpserver.expect_request("/health").respond_with_data("ok")
    result = probe_http(httpserver.url_for("/health"), timeout=3)
    assert result["status"] == "UP"
    assert result["status_code"] == 200
    assert 0 < result["response_time"] < 3
    assert "error" not in result


def test_500_is_down_with_the_status_code(httpserver):
    httpserver.expect_request("/health").respond_with_data("boom", status=500)
    result = probe_http(httpserver.url_for("/health"), timeout=3)
    assert (result["status"], result["status_code"]) == ("DOWN", 500)
    assert result["error"] == "HTTP 500 INTERNAL SERVER ERROR"


def test_closed_port_is_down_with_a_one_line_error():
    result = probe_http(f"http://127.0.0.1:{free_port()}/", timeout=3)
    assert result["status"] == "DOWN"
    assert result["status_code"] is None
    assert result["error"] == "connection failed: Connection refused"


def test_silent_server_times_out():
    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        result = probe_http(f"http://127.0.0.1:{port}/", timeout=0.3)
    assert result["status"] == "DOWN"
    assert result["error"] == "timed out after 0.3s"
    assert result["response_time"] < 3


def test_bad_url_and_password_never_shown(httpserver):
    assert probe_http("example.com/health")["error"] == (
        "invalid URL 'example.com/health': needs http:// or https://"
    )
    assert probe_http("http://")["error"] == "invalid URL 'http://'"
    httpserver.expect_request("/private").respond_with_data("ok")
    url = httpserver.url_for("/private").replace("http://", "http://monitor:s3cret@")
    result = probe_http(url, timeout=3)
    assert result["status"] == "UP"
    assert "s3cret" not in repr(result)
    assert result["url"].startswith("http://monitor:****@")
