"""RECORD_OFFERS_MANY (one call per user per batch) leaves every ledger and answers exactly as
RECORD_OFFERS applied message by message (xsell/store/attribution/offers_lua.py), on random
batches with redeliveries, items offered out of time order, the window and the entries cap
pruning; and it runs a fraction of the Redis commands."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.devenv.servers import LocalRedis
from xsell.store import Store
from xsell.store.attribution.ledger import rule_of, trigger_arg
from xsell.store.attribution.lua import ATTRIBUTE
from xsell.store.attribution.offers_lua import RECORD_OFFERS
from xsell.store.attribution.segment_rows import segment_arg
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import number_arg

pytestmark = pytest.mark.integration
ITEMS = [f"i{n}" for n in range(12)]
WINDOW = 500
START = 1_765_100_000.0  # event times as epoch seconds with fractions, as the worker's

Message = tuple[dict[str, Any], float]  # a published message and its trigger ts


@dataclass
class User:
    clock: float = START
    sent: list[Message] = field(default_factory=list)


def random_batch(rng: random.Random, users: dict[str, User], step: int) -> list[Message]:
    """Up to 25 messages of a few users, interleaved: redeliveries, offers dated earlier than
    the user's clock (even beyond the window), now and then a gap longer than the window."""
    batch: list[Message] = []
    for n in range(rng.randint(1, 25)):
        name = rng.choice(list(users))
        user = users[name]
        if user.sent and rng.random() < 0.2:
            batch.append(rng.choice(user.sent))  # redelivered as it was
            continue
        user.clock += rng.choice([0.0, 0.25, 1.5, 7.0, 30.0, 90.0]) + rng.random()
        if rng.random() < 0.02:
            user.clock += WINDOW * rng.choice([0.5, 1.2, 3.0])
        ts = user.clock - rng.choice([0, 0, 0, 0, 20, 120, 700])
        sid = f"s{step}.{n}"
        if user.sent and rng.random() < 0.05:
            sid = rng.choice(user.sent)[0]["suggestion_id"]  # same id, other offers
        message = {
            "suggestion_id": sid,
            "user_id": name,
            "placement": rng.choice(["cart", "post_purchase"]),
            "variant": rng.choice("ab"),
            "items": [
                {"item_id": i, "because": {"rule_id": "r1"} if rng.random() < 0.3 else None}
                for i in rng.sample(ITEMS, rng.choice([0, 1, 2, 3, 3, 3]))
            ],
            "trigger": {"item_ids": rng.sample(ITEMS, rng.choice([0, 1, 2]))},
            "segment": rng.choice(
                [None, {"lifecycle": "new", "spend": None}, {"lifecycle": "loyal", "spend": "mid"}]
            ),
        }
        user.sent.append((message, ts))
        batch.append((message, ts))
    return batch


def one_by_one(store: Store, batch: Sequence[Message]) -> list[Call]:
    """RECORD_OFFERS of each message, in order (the definition)."""
    cap = str(store.settings.feedback.attribution_ledger_max_entries)
    return [
        (
            RECORD_OFFERS,
            store.keys.ledger(m["user_id"]),
            [
                m["suggestion_id"],
                number_arg(ts),
                m["placement"],
                m["variant"],
                number_arg(WINDOW),
                cap,
                trigger_arg(m),
                segment_arg(m),
                *[x for o in m["items"] for x in (o["item_id"], rule_of(o))],
            ],
        )
        for m, ts in batch
    ]


def snapshot(client: redis.Redis, keys: Sequence[str]) -> dict[str, Any]:
    return {k: (client.dump(k), client.pttl(k)) for k in keys}


def restore(client: redis.Redis, saved: dict[str, Any]) -> None:
    for key, (dumped, pttl) in saved.items():
        client.delete(key)
        if dumped is not None:
            client.restore(key, max(pttl, 0), dumped)


def members(client: redis.Redis, keys: Sequence[str]) -> set[tuple[str, bytes]]:
    return {(k, m) for k in keys[1::2] for m in client.zrange(k, 0, -1)}


def ledgers(client: redis.Redis, keys: Sequence[str]) -> dict[str, Any]:
    """Each ledger hash, zset (with scores) and whether it has its lifetime."""
    out: dict[str, Any] = {}
    for att, atz in zip(keys[::2], keys[1::2], strict=True):
        out[att] = (client.hgetall(att), client.ttl(att) > 0)
        out[atz] = (client.zrange(atz, 0, -1, withscores=True), client.ttl(atz) > 0)
    return out


@pytest.mark.parametrize("cap", [100, 5000])
@pytest.mark.parametrize("seed", range(4))
def test_many_offers_in_one_call_equal_one_by_one(
    redis_server: LocalRedis, make_settings: Callable[..., Settings], seed: int, cap: int
) -> None:
    rng = random.Random(seed)
    settings = make_settings(attribution_window_seconds=WINDOW, attribution_ledger_max_entries=cap)
    client = redis.Redis.from_url(redis_server.url)
    users = {name: User() for name in ("ann", "bob", "cy")}

    async def go() -> tuple[int, int]:
        store = await Store.open(settings)
        assert store.ledger is not None
        keys = [k for name in users for k in store.keys.ledger(name)]
        biggest, pruned = 0, 0
        try:
            for step in range(70):
                batch = random_batch(rng, users, step)
                before = snapshot(client, keys)
                held = members(client, keys)
                want_pids = await store.runner.run(one_by_one(store, batch))
                want = ledgers(client, keys)
                restore(client, before)
                calls = store.ledger.offer_calls([m for m, _ in batch], [t for _, t in batch])
                answers = await store.runner.run(list(calls.values()))
                assert len(calls) == len({m["user_id"] for m, _ in batch})  # one per user
                assert ledgers(client, keys) == want, step
                pids = dict(zip(calls, answers, strict=True))
                assert [pids[m["user_id"]] for m, _ in batch] == want_pids, step
                pruned += bool(held - members(client, keys))
                biggest = max(biggest, *(int(client.zcard(k)) for k in keys[1::2]))
                # the users act in between: flags and event entries on the agreed ledgers
                for n in range(rng.randint(0, 3)):
                    name = rng.choice(list(users))
                    item = rng.choice(ITEMS)
                    kind = rng.choice(["add", "buy"])
                    args = [f"e{step}.{n}", number_arg(users[name].clock), number_arg(WINDOW)]
                    args += [kind, item, "", "0" if kind == "add" else "12.5"]
                    await store.runner.run([(ATTRIBUTE, store.keys.ledger(name), args)])
        finally:
            await store.close()
        return biggest, pruned

    biggest, pruned = run(go())
    assert pruned >= 5  # the histories prune, by the window (both caps) or the cap
    assert (biggest >= cap) == (cap == 100)  # the small cap binds


def script_commands(client: redis.Redis) -> tuple[int, int]:
    """(commands run inside scripts so far, script calls so far) from INFO commandstats."""
    stats: dict[str, Any] = client.info("commandstats")
    scripts = sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_eval"))
    other = {"cmdstat_info", "cmdstat_script", "cmdstat_client", "cmdstat_hello", "cmdstat_ping"}
    total = sum(int(v["calls"]) for k, v in stats.items() if k not in other)
    return total - scripts, scripts


def test_twenty_messages_of_a_user_in_a_few_commands(
    redis_server: LocalRedis, make_settings: Callable[..., Settings]
) -> None:
    """The bench's cart mix: one user, 20 messages of 3 offers in a batch, after an earlier
    batch (the items' current offers are held by its suggestions)."""
    settings = make_settings()
    client = redis.Redis.from_url(redis_server.url)

    def batch(step: int) -> list[Message]:
        return [
            (
                {
                    "suggestion_id": f"s{step}.{n}",
                    "user_id": "busy",
                    "placement": "cart",
                    "variant": "a",
                    "items": [{"item_id": f"i{(n + k) % 8}"} for k in range(3)],
                },
                START + 100 * step + n,
            )
            for n in range(20)
        ]

    async def go() -> tuple[tuple[int, int], tuple[int, int]]:
        store = await Store.open(settings)
        assert store.ledger is not None
        keys = store.keys.ledger("busy")
        try:
            await store.runner.run(one_by_one(store, batch(0)))
            saved = snapshot(client, keys)
            start = script_commands(client)
            await store.runner.run(one_by_one(store, batch(1)))
            one = script_commands(client)
            want = ledgers(client, keys)
            restore(client, saved)
            start_many = script_commands(client)
            messages = batch(1)
            calls = store.ledger.offer_calls([m for m, _ in messages], [t for _, t in messages])
            await store.runner.run(list(calls.values()))
            many = script_commands(client)
            assert ledgers(client, keys) == want
        finally:
            await store.close()
        return (one[0] - start[0], one[1] - start[1]), (
            many[0] - start_many[0],
            many[1] - start_many[1],
        )

    (before, calls_before), (after, calls_after) = run(go())
    assert (calls_before, calls_after) == (20, 1)
    assert before >= 20 * 20  # about 25 a message
    assert after <= 10, after
