"""The latest suggestion message of each user, as it went to the suggestions topic.

Where it lives: the worker writes it to Redis (``NS:{u:USER}:sug``, a hash: placement -> the
message's JSON, and ``*`` -> the newest of all placements) right after Kafka has acknowledged
the batch's messages, in one pipelined round trip per batch; the API reads it from there. So
it is visible as soon as it is published (well within a second), every API instance sees the
same one, it expires ``XSELL_SUGGESTION_TTL_SECONDS`` after the user's last suggestion, and a
``forget_user`` deletes it with the cart and the history (xsell/store/core/calls.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xsell.store.backend.client import Call, Runner
from xsell.store.core.keys import Keys

NEWEST = "*"  # the field holding the newest message of any placement


@dataclass(frozen=True, slots=True)
class Published:
    """One record sent to the suggestions topic: a message, or a tombstone (payload None)."""

    user_id: str | None
    placement: str | None
    payload: str | None  # the record value, as sent


def latest_calls(keys: Keys, ttl_seconds: int, records: Iterable[Published]) -> list[Call]:
    """The writes that leave each user's latest messages as the topic holds them after
    ``records`` (in topic order): a tombstone forgets what came before it, a message replaces
    the one of its placement. Anonymous messages (no user) are not kept."""
    state: dict[str, tuple[bool, dict[str, str]]] = {}  # user -> (deleted first, fields)
    for rec in records:
        if rec.user_id is None:
            continue
        if rec.payload is None:
            state[rec.user_id] = (True, {})
            continue
        deleted, fields = state.setdefault(rec.user_id, (False, {}))
        fields[rec.placement or "cart"] = rec.payload
        fields[NEWEST] = rec.payload
    calls: list[Call] = []
    for user, (deleted, fields) in state.items():
        key = keys.latest(user)
        if deleted:
            calls.append(("DEL", key))
        if fields:
            calls.append(("HSET", key, *[x for kv in fields.items() for x in kv]))
            calls.append(("EXPIRE", key, ttl_seconds))
    return calls


def latest_read(keys: Keys, user_id: str, placement: str | None) -> Call:
    """The read of a user's latest message (of ``placement``, or of any when None)."""
    return ("HGET", keys.latest(user_id), placement or NEWEST)


class LatestSuggestions:
    """Each user's latest suggestion message per placement, as the topic holds it."""

    def __init__(self, runner: Runner, keys: Keys) -> None:
        self._runner = runner
        self._keys = keys

    async def read(self, user_id: str, placement: str | None) -> str | None:
        """The message JSON of ``user_id``'s latest suggestion (of ``placement``, or of any)."""
        (payload,) = await self._runner.run([latest_read(self._keys, user_id, placement)])
        return None if payload is None else str(payload)
