"""The bulk path's pure maths (models/bulk.py) against straightforward references."""

from __future__ import annotations

import random

import numpy as np

from xsell.models.bulk import bulk_counts, keep_top, landmark_chain, pair_entries, sum_by_key
from xsell.models.events import OrderLine, PurchaseEvent


def test_pair_entries_are_every_directed_pair_order_after_order() -> None:
    lists = [[3, 1, 2], [], [5, 4], [7]]
    occ = np.array([c for p in lists for c in p], dtype=np.int64)
    lengths = np.array([len(p) for p in lists], dtype=np.int64)
    weights = np.arange(len(occ), dtype=np.float64) + 0.5
    a, b, w = pair_entries(occ, lengths, weights)
    expected, start = [], 0
    for p in lists:
        for i, x in enumerate(p):
            expected += [(x, y, start + i + 0.5) for y in p if y != x]
        start += len(p)
    assert list(zip(a.tolist(), b.tolist(), w.tolist(), strict=True)) == expected


def test_sum_by_key_adds_in_input_order_both_ways() -> None:
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 50, 5000)
    weights = rng.random(5000) * 10.0 ** rng.integers(-8, 8, 5000)
    want: dict[int, float] = {}
    for c, w in zip(codes.tolist(), weights.tolist(), strict=True):
        want[c] = want.get(c, 0.0) + w  # sequential, as the Lua script's ZMSCORE + ZADD
    for space in (50, 1 << 40):  # dense bincount, and through np.unique
        keys, sums = sum_by_key(codes, weights, space)
        assert dict(zip(keys.tolist(), sums.tolist(), strict=True)) == want


def test_keep_top_keeps_the_greatest_and_breaks_ties_like_zremrangebyrank() -> None:
    # group 0: 6 entries > cap 4 + 1 -> pruned to 4; group 1: 5 entries = cap + cap // 4 -> kept
    groups = np.array([0] * 6 + [1] * 5)
    weights = np.array([5.0, 1.0, 2.0, 2.0, 2.0, 9.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    ranks = np.array([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4])
    keep = keep_top(groups, weights, ranks, 4)
    # ties at 2.0 among ranks 2, 3, 4: ZREMRANGEBYRANK drops the lowest member first
    assert keep.tolist() == [True, False, False, True, True, True] + [True] * 5
    assert keep_top(groups, weights, ranks, 0).all()


def test_landmark_chain_moves_past_thirty_half_lives() -> None:
    assert landmark_chain([0.0, 10.0, 30.0], 1.0) == (0.0, False)
    assert landmark_chain([0.0, 31.0, 40.0, 62.0], 1.0) == (62.0, True)


def _orders(n: int, seed: int) -> list[PurchaseEvent]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        items = [f"i{rng.randrange(30)}" for _ in range(rng.randrange(1, 9))]
        out.append(
            PurchaseEvent(
                f"e{i}",
                f"o{i}",
                f"u{rng.randrange(5)}",
                1000.0 + i * 3600,
                tuple(OrderLine(x) for x in items),
            )
        )
    return out


def test_bulk_counts_equal_plain_counting_with_decay_off() -> None:
    orders = _orders(300, 2)
    orders.append(orders[10])  # a repeated order counts once
    counts = bulk_counts(orders, half_life=0, max_items_per_order=5, max_neighbors=0)
    pairs: dict[tuple[str, str], float] = {}
    pop: dict[str, float] = {}
    for order in orders[:-1]:
        items = order.distinct_items()
        for x in items:
            pop[x] = pop.get(x, 0.0) + 1.0
        paired = items[:5]
        for x in paired:
            for y in paired:
                if x != y:
                    pairs[x, y] = pairs.get((x, y), 0.0) + 1.0
    got = {}
    for code, item in enumerate(counts.vocab):
        partners, weights = counts.partners(code)
        got.update(
            {
                (item, counts.vocab[p]): w
                for p, w in zip(partners.tolist(), weights.tolist(), strict=True)
            }
        )
    assert got == pairs
    assert counts.popularity == pop
    assert counts.order_total == 300.0
    assert len(counts.event_ids) == 300
    assert counts.landmarks == {} and counts.global_landmark is None
