"""The operators' reads and writes of the state: ``xsell status`` and ``rebuild``, the
neighbours of an item, the scans of the verification harness and the bench's memory figures.

Each method names what it returns; the keys behind it stay in the store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from xsell.models.inputs import Parsed
from xsell.store.backend.client import RedisClient, Runner
from xsell.store.core.epoch import META_BOOKKEEPING
from xsell.store.core.keys import Keys, Stream, is_bookkeeping, is_output
from xsell.store.core.lua import READ_ITEM
from xsell.store.core.reader import parse_scores


@dataclass(frozen=True, slots=True)
class StateSummary:
    """What ``xsell status`` shows of the state's bookkeeping."""

    created: str | None
    lost_at: str | None
    lost_epoch: str | None
    rebuilt_at: str | None
    items: int
    catalog: int


@dataclass(frozen=True, slots=True)
class ItemPartners:
    """An item's stored partner weights (not decayed) and the landmark they are relative to."""

    landmark: float | None
    together: Parsed
    co_added: Parsed


@dataclass(frozen=True, slots=True)
class KeyFootprint:
    """One key's name (without the namespace), bytes and entries."""

    name: str
    bytes: int
    entries: int


@dataclass(frozen=True, slots=True)
class IdempotencyFootprint:
    """What exactly-once costs in Redis now (xsell/store/core/guards.py): done keys (their
    bytes estimated from a sample), guard marker zsets and positions (exact)."""

    done_keys: int
    done_bytes: int
    guard_keys: int
    guard_markers: int
    guard_bytes: int
    positions: int
    positions_bytes: int
    keys: int  # every key of the namespace

    @property
    def bytes(self) -> int:
        return self.done_bytes + self.guard_bytes + self.positions_bytes


def model_key(key: str) -> bool:
    """Keys that hold learned state (not dedup markers, done markers or outputs)."""
    return not is_bookkeeping(key) and not is_output(key)


class OpsStore:
    """Status, rebuild marks, item inspection, state scans and memory accounting."""

    def __init__(self, runner: Runner, client: RedisClient, keys: Keys) -> None:
        self._runner = runner
        self._client = client
        self._keys = keys

    async def ping(self) -> bool:
        """True when Redis answers (readiness probes bound it with their own deadline)."""
        return bool(await self._client.ping())

    async def summary(self) -> StateSummary:
        """The state's epoch marks and sizes (items with an order count, catalogue entries)."""
        k = self._keys
        meta, items, catalog = await self._runner.run(
            [
                ("HMGET", k.meta, "created", "lost_at", "lost_epoch", "rebuilt_at"),
                ("ZCARD", k.popularity),
                ("HLEN", k.catalog),
            ]
        )
        created, lost_at, lost_epoch, rebuilt_at = meta
        return StateSummary(created, lost_at, lost_epoch, rebuilt_at, int(items), int(catalog))

    async def mark_rebuilt(self, at_ms: int) -> None:
        """Record that the state was rebuilt at ``at_ms`` (status stops reporting a loss)."""
        await self._runner.run([("HSET", self._keys.meta, "rebuilt_at", at_ms)])

    async def item_partners(self, item_id: str, k: int) -> ItemPartners:
        """The top ``k`` co-purchase and co-add partners of ``item_id`` as stored."""
        keys = self._keys.item(item_id)
        ((land_raw, p_flat, c_flat),) = await self._runner.run(
            [(READ_ITEM, [keys.pairs, keys.cart_pairs, keys.info], [k])]
        )
        landmark = float(land_raw) if land_raw is not None else None
        return ItemPartners(landmark, parse_scores(p_flat), parse_scores(c_flat))

    async def order_counts(self, items: Sequence[str]) -> list[float]:
        """The stored (decayed) order count of each item, 0 where it has none."""
        if not items:
            return []
        (scores,) = await self._runner.run([("ZMSCORE", self._keys.popularity, *items)])
        return [float(s or 0.0) for s in scores]

    async def most_popular(self, n: int) -> list[str]:
        """The ``n`` items with the highest order counts, most popular first."""
        top = await self._client.zrange(self._keys.popularity, 0, n - 1, desc=True)
        return [str(i) for i in top]

    async def best_partner(self, items: Sequence[str]) -> list[tuple[str, float] | None]:
        """Each item's strongest co-purchase partner with its stored weight (None: none)."""
        answers = await self._runner.run(
            [("ZRANGE", self._keys.item(i).pairs, 0, 0, "REV", "WITHSCORES") for i in items]
        )
        out: list[tuple[str, float] | None] = []
        for best in answers:
            members, weights = parse_scores(list(best or []))
            out.append((str(members[0]), weights[0]) if members else None)
        return out

    async def item_count(self) -> int:
        """How many items have an order count."""
        return int(await self._client.zcard(self._keys.popularity))

    async def applied_orders(self) -> int:
        """How many order events the namespace has marked as applied (dedup guard)."""
        return int(await self._client.zcard(self._keys.global_markers))

    async def applied(self, stream: Stream, event_ids: Sequence[str]) -> list[bool]:
        """Whether each event's done marker is set."""
        flags = await self._runner.run([("EXISTS", self._keys.done(stream, e)) for e in event_ids])
        return [bool(f) for f in flags]

    async def model_key_names(self) -> set[str]:
        """The keys holding learned state (see :func:`model_key`), without the prefix."""
        strip = len(self._keys.ns)
        return {
            key[strip:]
            async for key in self._client.scan_iter(match=self._keys.pattern(), count=1000)
            if model_key(key)
        }

    async def values(self, suffixes: Sequence[str]) -> list[Any]:
        """Values of ``ns + suffix`` keys: dict for zsets (float scores) and hashes (meta's
        bookkeeping dropped), str for strings, None for absent keys."""
        names = [self._keys.ns + s for s in suffixes]
        types = await self._runner.run([("TYPE", n) for n in names])
        calls: list[tuple[Any, ...]] = []
        for name, kind in zip(names, types, strict=True):
            if kind == "zset":
                calls.append(("ZRANGE", name, 0, -1, "WITHSCORES"))
            elif kind == "hash":
                calls.append(("HGETALL", name))
            else:
                calls.append(("GET", name))
        raw = await self._runner.run(calls)
        out: list[Any] = []
        for kind, value in zip(types, raw, strict=True):
            if kind == "zset":
                members, scores = parse_scores(value)
                out.append(dict(zip(members, scores, strict=True)))
            elif kind == "hash":
                out.append({f: v for f, v in value.items() if f not in META_BOOKKEEPING})
            else:
                out.append(value)
        return out

    async def dump(self) -> dict[str, Any]:
        """Every key of the namespace (without the namespace) -> value; markers -> members
        only (their scores are wall-clock times); published outputs and input positions
        (bookkeeping of the consumer's offsets) left out; meta's
        ``created`` (a wall-clock epoch) dropped."""
        out: dict[str, Any] = {}
        ns = len(self._keys.ns)
        async for key in self._client.scan_iter(match=self._keys.pattern(), count=1000):
            if is_output(key) or key.endswith(":pos"):
                continue
            kind = await self._client.type(key)
            if kind == "zset":
                pairs: Any = await self._client.zrange(key, 0, -1, withscores=True)
                marker = key.endswith((":m", ":mp"))
                out[key[ns:]] = sorted(m for m, _ in pairs) if marker else dict(pairs)
            elif kind == "hash":
                value = await self._client.hgetall(key)
                value.pop("created", None)
                out[key[ns:]] = value
            else:
                out[key[ns:]] = await self._client.get(key)
        return out

    async def records_applied(self) -> int:
        """Records the workers have committed, over every input partition (positions + 1)."""
        (offsets,) = await self._runner.run([("HVALS", self._keys.positions)])
        return sum(int(o) + 1 for o in offsets)

    async def used_memory(self) -> int:
        """What the Redis server holds in all, in bytes (INFO memory used_memory; a single
        Redis: a cluster client answers per node)."""
        info = await self._client.info("memory")
        return int(info["used_memory"])

    async def idempotency(self, sample: int = 500) -> IdempotencyFootprint:
        """The idempotency bookkeeping's keys and bytes (MEMORY USAGE; done keys: the mean of
        the first ``sample`` found, times their count). One SCAN of the namespace."""
        done: list[str] = []
        guards: list[str] = []
        done_total = keys = 0
        async for key in self._client.scan_iter(match=self._keys.pattern(), count=1000):
            keys += 1
            if ":{e:" in key:
                done_total += 1
                if len(done) < sample:
                    done.append(key)
            elif is_bookkeeping(key) and key != self._keys.positions:
                guards.append(key)
        sizes = await self._runner.run([("MEMORY", "USAGE", k) for k in done])
        done_bytes = round(sum(int(x or 0) for x in sizes) / max(len(sizes), 1) * done_total)
        guard_sizes = await self._runner.run(
            [c for k in guards for c in (("MEMORY", "USAGE", k), ("ZCARD", k))]
        )
        pos = self._keys.positions
        pos_size, pos_len = await self._runner.run([("MEMORY", "USAGE", pos), ("HLEN", pos)])
        return IdempotencyFootprint(
            done_keys=done_total,
            done_bytes=done_bytes,
            guard_keys=len(guards),
            guard_markers=sum(int(x or 0) for x in guard_sizes[1::2]),
            guard_bytes=sum(int(x or 0) for x in guard_sizes[0::2]),
            positions=int(pos_len or 0),
            positions_bytes=int(pos_size or 0),
            keys=keys,
        )

    async def footprints(self) -> AsyncIterator[KeyFootprint]:
        """Every key of the namespace with its bytes (MEMORY USAGE: value, name and overhead,
        without the allocator's slack) and entries (zset and hash members)."""
        async for key in self._client.scan_iter(match=self._keys.pattern(), count=1000):
            used = int(await self._client.memory_usage(key, samples=0) or 0)
            kind = await self._client.type(key)
            entries = 0
            if kind == "zset":
                entries = int(await self._client.zcard(key))
            elif kind == "hash":
                entries = int(await self._client.hlen(key))
            yield KeyFootprint(key[len(self._keys.ns) :], used, entries)
