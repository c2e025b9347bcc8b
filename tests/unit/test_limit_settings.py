"""Every limit is a setting: each one below was a constant; a non-default value takes effect
where the limit applies, and a value outside its range is refused (docs/security.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import HTTPException
from pydantic import ValidationError

from tests.unit.validate_cases import item, raw, reject
from xsell.api import event_routes
from xsell.api.batcher import RankBatcher, RankQuery
from xsell.api.deadline import redis_patience
from xsell.api.guard import Guard
from xsell.api.hub import SuggestionHub
from xsell.api.runtime import ApiRuntime
from xsell.config.settings import Settings, load_settings
from xsell.models.events import Limits
from xsell.models.messages.reader import read_message
from xsell.models.validate import parse_record
from xsell.store import RuleSet
from xsell.store.attribution.figures import batch_calls
from xsell.store.attribution.ledger import Attribution
from xsell.store.core.keys import Keys
from xsell.streams.handler import Record, dead_letter


def refused(**values: Any) -> None:
    with pytest.raises(ValidationError):
        load_settings(**values)


def query(anchor: str) -> RankQuery:
    return RankQuery((anchor,), frozenset(), None, 3, "a")


def test_max_name_length() -> None:
    limits = load_settings(max_name_length=10).limits
    assert limits.max_name_length == 10
    named = raw(item(name="x" * 11))
    assert "at most 10 characters" in reject("catalog", named, limits)
    with pytest.raises(Exception, match="at most 10 characters"):
        read_message("catalog", named, limits)
    assert parse_record("catalog", named, Limits()).name == "x" * 11  # the default: 1000
    refused(max_name_length=0)
    refused(max_name_length=100_001)


def test_dead_letter_payload_chars() -> None:
    limits = load_settings(dead_letter_payload_chars=200).limits
    letter = dead_letter(Record("xsell.orders", 0, 1, b"y" * 500), "not JSON", limits)
    assert letter["payload"] == "y" * 200
    assert "truncated to 200 characters" in letter["error"]
    kept = dead_letter(Record("xsell.orders", 0, 1, b"y" * 500), "not JSON", Limits())
    assert kept["payload"] == "y" * 500
    refused(dead_letter_payload_chars=99)
    refused(dead_letter_payload_chars=100_001)  # the contract's schema says at most 100,000


def test_api_cache_entries() -> None:
    class Batcher:
        async def rank(self, q: RankQuery) -> list[Any]:
            return []

    class Steering:  # the merchant rules' version, part of every cache key
        async def refresh(self) -> RuleSet:
            return RuleSet(7, ())

    class Engine:
        steering = Steering()

    settings = load_settings(api_cache_entries=2)
    rt = ApiRuntime(settings, None, None, Engine(), Batcher(), None, None, None)  # type: ignore[arg-type]

    async def go() -> None:
        for anchor in ("a", "b", "c"):
            await rt.rank(query(anchor))

    asyncio.run(go())
    assert list(rt.cache) == [(query("c"), 7)]  # full at 2: started over
    refused(api_cache_entries=0)


def test_api_stream_queue_size() -> None:
    hub = SuggestionHub(load_settings(api_stream_queue_size=5))
    with hub.subscribe("u1") as queue:
        assert queue.maxsize == 5
    refused(api_stream_queue_size=0)
    refused(api_stream_queue_size=10_001)


def test_api_rank_batch_size() -> None:
    sizes: list[int] = []

    class Batcher(RankBatcher):
        async def _rank_all(self, queries: list[RankQuery]) -> list[list[Any]]:
            sizes.append(len(queries))
            return [[] for _ in queries]

    async def go(max_batch: int) -> None:
        batcher = Batcher(None, max_batch)  # type: ignore[arg-type]
        await asyncio.gather(*(batcher.rank(query(str(n))) for n in range(5)))

    asyncio.run(go(2))
    assert sizes == [2, 2, 1]
    sizes.clear()
    asyncio.run(go(load_settings().api.rank_batch_size))
    assert sizes == [5]
    refused(api_rank_batch_size=0)


def test_api_guard_max_blocks() -> None:
    guard = Guard(load_settings(api_guard_max_blocks=2), None)  # type: ignore[arg-type]
    for n in range(3):
        guard._remember(("ip", f"10.0.0.{n}"), until=2e9, now=1e9)
    assert list(guard._blocked) == [("ip", "10.0.0.2")]  # full of live blocks: started over
    refused(api_guard_max_blocks=0)


def test_attribution_ledger_max_entries() -> None:
    settings = load_settings(attribution_ledger_max_entries=300)
    ledger = Attribution(Keys(settings.redis.key_namespace), settings)
    message = {"user_id": "u", "suggestion_id": "s", "placement": "cart", "variant": "a"}
    [(_, _, args)] = ledger.offer_calls([{**message, "items": [{"item_id": "i"}]}], [1.0]).values()
    assert args[1] == "300"  # ARGV[2]: the cap the script prunes to
    # triggers, segment (none known); item, its rule
    assert args[2:] == ["s", "1.0", "cart", "a", "", "", "1", "i", ""]
    seg = {"segment": {"lifecycle": "loyal", "spend": "high"}}
    [(_, _, args)] = ledger.offer_calls([{**message, **seg, "items": []}], [1.0]).values()
    assert args[2:] == ["s", "1.0", "cart", "a", "", "loyal,high", "0"]
    refused(attribution_ledger_max_entries=99)


def test_minute_figures_retention_days() -> None:
    settings = load_settings(minute_figures_retention_days=1)
    lifetime = settings.worker.minute_figures_retention_days * 86400
    keys = Keys(settings.redis.key_namespace)
    calls = batch_calls(keys, "orders", 3, 1, 0, [12.0], 60.0, lifetime_seconds=lifetime)
    assert calls[-1] == ("EXPIRE", keys.minute(1), 86400)
    assert Settings().worker.minute_figures_retention_days == 3
    refused(minute_figures_retention_days=0)


def test_the_api_waits_for_redis_as_long_as_its_longer_deadline() -> None:
    assert redis_patience(Settings()) == 2.0  # the former constant
    longer = load_settings(api_read_deadline_seconds=0.5, api_write_deadline_seconds=7)
    assert redis_patience(longer) == 7.0


def test_the_wait_for_kafka_is_the_write_deadline() -> None:
    class Producer:
        async def send(self, topic: str, value: bytes, key: bytes | None) -> Any:
            return asyncio.get_running_loop().create_future()  # never acknowledged

    class Runtime:
        settings = load_settings(api_write_deadline_seconds=0.01)
        producer = Producer()

    with pytest.raises(HTTPException) as info:
        asyncio.run(event_routes.send_events(Runtime(), [("orders", "u", b"{}")]))  # type: ignore[arg-type]
    assert info.value.status_code == 503 and "Kafka unavailable" in info.value.detail
