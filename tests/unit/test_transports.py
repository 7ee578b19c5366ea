"""The transports registry: which transport and event lane a broker URL gets, the schemes the
config accepts, and that the lanes and the stream do not import each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

import celerytui.core.transports
from celerytui.config import load_settings
from celerytui.core.events import EventStream
from celerytui.core.transports import TRANSPORTS, pushes_results, transport_for
from celerytui.url_schemes import BROKER_SCHEMES, BROKER_SCHEMES_BY_TRANSPORT

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "transport", "lane"),
    [
        ("redis://localhost:6379/0", "redis", "redis"),  # a single Redis: the fast lane
        ("rediss://:pw@cache.example.com:6380/0", "redis", "redis"),
        ("redis://a:6379/0;redis://b:6379/0", "redis", "kombu"),  # failover list: kombu's reader
        ("sentinel://s1:26379", "redis", "kombu"),
        ("redis+socket:///tmp/redis.sock", "redis", "kombu"),
        ("amqp://guest@localhost:5672//", "amqp", "kombu"),
        ("pyamqp://guest@localhost//", "amqp", "kombu"),
        ("memory://", "kombu", "kombu"),
        ("sqla+sqlite:///tmp/broker.db", "kombu", "kombu"),
    ],
)
def test_each_broker_url_gets_its_transport_and_lane(url, transport, lane):
    stream = EventStream(Celery(broker=url, set_as_current=False), read_only=True)
    assert (stream.transport.name, stream.lane) == (transport, lane)
    assert transport_for(url).name == transport


def test_kombu_lane_on_request_even_for_a_single_redis():
    stream = EventStream(
        Celery(broker="redis://localhost:6379/0", set_as_current=False), fast_redis=False
    )
    assert (stream.transport.name, stream.lane) == ("redis", "kombu")


def test_the_generic_kombu_transport_is_last_and_takes_any_url():
    assert [t.name for t in TRANSPORTS][-1] == "kombu"
    assert transport_for("someone.else.transport://host").name == "kombu"


def test_only_redis_result_backends_push_results():
    assert pushes_results("redis://h:6379/1") and pushes_results("REDISS://h:6380/1")
    assert not any(
        pushes_results(u)
        for u in (
            "rpc://",
            "db+sqlite:///r.db",
            "file:///tmp/r",
            "redis+socket:///tmp/r.sock",
            None,
        )
    )


def test_config_accepts_exactly_the_schemes_the_transports_read():
    assert sorted(BROKER_SCHEMES_BY_TRANSPORT) == sorted(t.name for t in TRANSPORTS)
    assert {s for t in TRANSPORTS for s in t.schemes} == BROKER_SCHEMES
    for transport in TRANSPORTS:
        for scheme in transport.schemes:
            url = f"{scheme}://broker.example.com:1234/0"
            assert load_settings(env={}, broker_url=url).broker_url == url


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_transport_module_imports_the_stream_or_the_monitor():
    package = Path(celerytui.core.transports.__file__).parent
    offenders = {
        p.name: sorted(_imports(p) & {"celerytui.core.events", "celerytui.core.monitor"})
        for p in package.glob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert {"redis_lane.py", "kombu_lane.py", "lane_parts.py"} <= set(offenders)


def test_config_and_the_registry_load_no_broker_client():
    code = (
        "import sys; import celerytui.config_checks; a = set(sys.modules); "
        "import celerytui.core.transports, celerytui.core.events; b = set(sys.modules); "
        "top = lambda m: {n.split('.')[0] for n in m} | {n for n in m if 'celerytui' in n}; "
        "print(sorted(top(a) & {'kombu', 'celery', 'celerytui.core'})); "
        "print(sorted(top(b) & {'kombu', 'redis', 'hiredis'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert out.stdout.split("\n")[:2] == ["[]", "[]"], out.stdout
