"""Lua scripts: the one way a store module declares them.

Each feature module of the store declares its scripts as module constants made by
:func:`lua_script`, each with its ``KEYS[i] / ARGV[i] / returns`` contract in a comment at the
top of its source. Declaring a script registers it; the :class:`~xsell.store.backend.client.Runner`
loads every registered script once per connection (SCRIPT LOAD), calls it by SHA and loads them
all again after a Redis restart (NOSCRIPT). There is no other list to keep up to date.

All scripts are idempotent per marker (event id): running one twice with the same marker
changes nothing, which is what makes Kafka's at-least-once delivery an exactly-once effect.
Numbers go into the scripts as Python's ``repr`` of a float (:func:`number_arg`: the shortest
text that reads back as the same double) and scripts write them with ``%.17g``, so no precision
is lost either way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from xsell.models.errors import XsellError


@dataclass(frozen=True)
class LuaScript:
    """A script's name, source and SHA1 (what EVALSHA names it by)."""

    name: str
    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())


_REGISTERED: dict[str, LuaScript] = {}


def lua_script(name: str, source: str) -> LuaScript:
    """Declare and register the script ``name``. Two different sources under one name are a
    programming error (the loader would keep one of them)."""
    script = LuaScript(name, source)
    known = _REGISTERED.setdefault(name, script)
    if known.sha != script.sha:
        raise XsellError(f"two Lua scripts are named {name!r}")
    return known


def registered_scripts() -> tuple[LuaScript, ...]:
    """Every script declared so far, in declaration order."""
    return tuple(_REGISTERED.values())


def number_arg(x: float) -> str:
    """A float as a script argument: the shortest text that reads back as the same double."""
    return repr(float(x))
