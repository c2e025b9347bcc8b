"""The hiredis command packer of xsell.store.backend.client gives redis-py's bytes exactly, and the
connection class follows the URL's scheme (TLS and unix sockets keep their transport)."""

from __future__ import annotations

import redis.asyncio as aioredis

from xsell.store.backend.client import (
    HiredisConnection,
    HiredisSSLConnection,
    HiredisUnixConnection,
    connection_class,
)

COMMANDS = [
    (
        "EVALSHA",
        "0" * 40,
        2,
        "xs:{i:a%7B}:p",
        "xs:{i:é}:c",
        "o:e1",
        1.5,
        10**13,
        0.1 + 0.2,
        -0.0,
        1e-07,
        "",
        "star",
    ),
    ("SET", "k", "1", "EX", 86400),
    ("CONFIG GET", "maxmemory"),
    ("HMGET", "xs:{g}:cat", *[f"item-{n}" for n in range(3000)]),
    ("ZADD", b"raw-bytes", 1.0, b"\x00\xff"),
]


def test_hiredis_packing_equals_redis_py() -> None:
    ours, theirs = HiredisConnection(), aioredis.Connection()
    for command in COMMANDS:
        assert b"".join(ours.pack_command(*command)) == b"".join(theirs.pack_command(*command))
    assert b"".join(ours.pack_commands(COMMANDS)) == b"".join(theirs.pack_commands(COMMANDS))


def test_connection_class_follows_the_scheme() -> None:
    assert connection_class("redis://h:6379/0") is HiredisConnection
    assert connection_class("rediss://h:6380/0") is HiredisSSLConnection
    assert connection_class("REDISS://h") is HiredisSSLConnection
    assert connection_class("unix:///tmp/redis.sock") is HiredisUnixConnection
    assert issubclass(HiredisSSLConnection, aioredis.SSLConnection)
