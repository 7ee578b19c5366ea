"""URL shapes that carry secrets, shared by the redaction unit tests and the end-to-end test.

Each shape is a template with ``{host}`` and ``{port}``; a unit test fills in a made-up host, the
end-to-end test a closed local port or a password-protected local redis-server. Every secret is
spelled so that any piece of it (a parser may cut a password at ``@ : / ; %``) is unique text
that can be searched for in an output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True)
class Shape:
    id: str
    template: str
    secrets: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()  # text that must stay visible besides the host, e.g. the user
    redis_user: str | None = None  # set for redis shapes a guarded redis-server accepts:
    # the ACL user ("default" for an empty user) whose password is secrets[0], decoded

    def url(self, host: str, port: int) -> str:
        return self.template.format(host=host, port=port)

    @property
    def authenticates(self) -> bool:
        return self.redis_user is not None


SHAPES = [
    Shape("empty-user", "redis://:Hx7Secret@{host}:{port}/0", ("Hx7Secret",), redis_user="default"),
    Shape(
        "user-and-password", "amqp://guest:Gx9Secret@{host}:{port}//", ("Gx9Secret",), ("guest",)
    ),
    Shape(
        "user-holding-at",
        "redis://ops@example.com:Ops4Secret@{host}:{port}/0",
        ("Ops4Secret",),
        ("ops@example.com",),
        redis_user="ops@example.com",
    ),
    Shape(
        "user-holding-%40",
        "redis://ops%40example.com:Enc5Secret@{host}:{port}/0",
        ("Enc5Secret",),
        ("ops%40example.com",),
        redis_user="ops@example.com",
    ),
    Shape(
        "password-holding-at",
        "redis://:Pa55@W0rd9@{host}:{port}/0",
        ("Pa55@W0rd9",),
        redis_user="default",
    ),
    Shape(
        "password-holding-colon",
        "redis://:Co1on:Pa2ss@{host}:{port}/0",
        ("Co1on:Pa2ss",),
        redis_user="default",
    ),
    Shape("password-holding-slash", "redis://:Sla5h/Pa6ss@{host}:{port}/0", ("Sla5h/Pa6ss",)),
    Shape(
        "password-holding-%40",
        "redis://:Pct7%40Pa8ss@{host}:{port}/0",
        ("Pct7%40Pa8ss",),
        redis_user="default",
    ),
    Shape(
        "password-holding-semicolon", "redis://:Semi3;Col9n@{host}:{port}/0", ("Semi3;Col9n",)
    ),  # kombu splits failover lists at ";": never connects
    Shape("user-only", "redis://justauser@{host}:{port}/0", (), ("justauser",)),
    Shape("empty-password", "amqp://nopass:@{host}:{port}//", (), ("nopass",)),
    Shape(
        "failover-list",
        "amqp://a:Fo1Secret@{host}:{port}//;amqp://b:Fo2@Secret@{host}:{port}//",
        ("Fo1Secret", "Fo2@Secret"),
    ),
    Shape("rediss", "rediss://:Tls3Secret@{host}:{port}/0?ssl_cert_reqs=required", ("Tls3Secret",)),
    Shape("amqps", "amqps://guest:Amq4Secret@{host}:{port}//", ("Amq4Secret",), ("guest",)),
    Shape(
        "sentinel-list",
        "sentinel://:Sen5Secret@{host}:{port};sentinel://:Sen6Secret@{host}:1",
        ("Sen5Secret", "Sen6Secret"),
    ),
    Shape(
        "query-tokens",
        "redis://{host}:{port}/0?password=Qp7Secret&token=Qt8Secret&api_key=Qk9Secret",
        ("Qp7Secret", "Qt8Secret", "Qk9Secret"),
    ),
    Shape("ipv6", "redis://:Ip6Secret@[::1]:{port}/0", ("Ip6Secret",), ("[::1]",)),
    Shape("unicode", "amqp://usér:Pässwörd7@{host}:{port}//", ("Pässwörd7",), ("usér",)),
]


def pieces(secret: str) -> set[str]:
    """The secret, decoded, and every piece of 3+ characters a parser might cut it into."""
    found = set()
    for coded in (secret, unquote(secret)):
        found.add(coded)
        found |= {p for p in re.split(r"[@:/;%]", coded) if len(p) >= 3}
    found |= {p for p in re.split(r"%[0-9A-Fa-f]{2}", secret) if len(p) >= 3}
    return found


def leaks(shape: Shape, text: str) -> list[str]:
    """The pieces of the shape's secrets that ``text`` shows (none, when all is well)."""
    return sorted(p for s in shape.secrets for p in pieces(s) if p in text)
