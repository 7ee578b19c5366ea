"""The URL schemes celerytui knows for a broker and a result backend. Stdlib only, no imports:
the config checks read it without loading kombu or celery.

The broker schemes are grouped by the transport in ``celerytui/core/transports/`` that answers
for them (its ``schemes``); a scheme not listed here is checked against the installed kombu /
celery before it is refused. Adding a transport for a scheme kombu knows needs no edit here.
"""

from __future__ import annotations

# kombu.transport.TRANSPORT_ALIASES (kombu 5.7), by the transport that reads them
BROKER_SCHEMES_BY_TRANSPORT: dict[str, tuple[str, ...]] = {
    "redis": ("redis", "rediss", "sentinel"),
    "amqp": ("amqp", "amqps", "pyamqp", "librabbitmq"),
    "kombu": (
        "memory",
        "filesystem",
        "sqla",
        "sqlalchemy",
        "sqs",
        "slmq",
        "azureservicebus",
        "azurestoragequeues",
        "confluentkafka",
        "kafka",
        "consul",
        "etcd",
        "gcpubsub",
        "mongodb",
        "pgmq",
        "pyro",
        "qpid",
        "zookeeper",
    ),
}
BROKER_SCHEMES = frozenset(s for group in BROKER_SCHEMES_BY_TRANSPORT.values() for s in group)

# celery.app.backends.BACKEND_ALIASES; the first group is the one whose results are pushed
RESULT_PUSH_SCHEMES = ("redis", "rediss")  # pub/sub of stored results (ResultWatcher)
BACKEND_SCHEMES = frozenset(
    (
        *RESULT_PUSH_SCHEMES,
        "rpc",
        "sentinel",
        "db",
        "database",
        "cache",
        "mongodb",
        "elasticsearch",
        "cassandra",
        "couchbase",
        "couchdb",
        "cosmosdbsql",
        "riak",
        "file",
        "disabled",
        "consul",
        "dynamodb",
        "azureblockblob",
        "arangodb",
        "s3",
        "gs",
        "gcs",
    )
)


def scheme_of(url: str) -> str:
    """The transport part of a URL's scheme, lower case: ``sqla+postgresql://`` -> ``sqla``;
    a failover list (``;``) is judged by its first URL, as kombu picks its transport."""
    first = url.split(";", 1)[0].strip()
    return first.partition("://")[0].split("+", 1)[0].lower()
