"""What streaming a sequence of orders through the store's scripts leaves, computed in numpy.

Why: streaming an order through ``APPLY_PAIRS`` costs Redis ~5.8 us per pair increment, and
an order of n items makes n(n-1) of them (12M for the shared Online Retail II file, ~75 s).
A bootstrap of an *empty* namespace from an orders file can instead compute every final value
here and write each key once (``xsell backfill``, xsell/store/core/bulk.py).

The arithmetic is the scripts', step for step, so the result is the streamed state:

- forward-decay weights ``base * 2^((ts - L) / h)`` with ``math.pow`` (C ``pow``, as Lua's
  ``^``), each key's landmark L being the ts of the first event that touched it;
- sums in event order (``np.bincount`` adds its weights in input order, as the sequence of
  ZMSCORE + ZADD steps does), so with no landmark move every number is equal to the last bit;
- a landmark moves where the script would move it (an event more than
  ``RESCALE_AFTER_HALF_LIVES`` half-lives past it); those keys' weights are then expressed at
  the final landmark directly, equal to the streamed values up to float rounding (~1e-15
  relative) instead of bit for bit;
- the same pruning rule: a partner set larger than ``cap + cap // 4`` keeps its ``cap``
  heaviest partners (ties: the byte-wise greatest ids, as ZREMRANGEBYRANK removes the lowest).
  The one difference from streaming: streaming prunes *while* it goes (a partner dropped early
  starts again from zero), the bulk path prunes the final totals, i.e. keeps the true top
  partners. Where nothing is pruned the two states are equal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xsell.models.decay import event_weight, needs_rescale
from xsell.models.events import PurchaseEvent

Array = np.ndarray[Any, Any]
DENSE_SPACE = 1 << 25  # pair codes summed by a direct bincount up to this many (256 MB)


@dataclass
class BulkCounts:
    """Final model values of a sequence of orders (see module doc)."""

    vocab: list[str]  # item code -> id
    pair_offsets: Array  # partners of item code a: pair_partner[off[a]:off[a+1]]
    pair_partner: Array  # partner codes
    pair_weight: Array  # co-purchase weights
    landmarks: dict[int, float]  # item code -> landmark L (decay on, item was a pair target)
    popularity: dict[str, float]
    order_total: float  # meta N
    latest_ts: float | None  # meta T
    global_landmark: float | None  # meta L (decay on)
    histories: dict[str, dict[str, float]] = field(default_factory=dict)  # user -> item -> ts
    event_ids: list[str] = field(default_factory=list)  # orders counted (first occurrence)
    pair_increments: int = 0  # what streaming would have sent to Redis
    rescaled_keys: int = 0  # keys whose landmark moved (values then equal within rounding)

    def partners(self, code: int) -> tuple[Array, Array]:
        """(partner codes, weights) of item ``code``."""
        lo, hi = int(self.pair_offsets[code]), int(self.pair_offsets[code + 1])
        return self.pair_partner[lo:hi], self.pair_weight[lo:hi]


def landmark_chain(ts: list[float], half_life: float) -> tuple[float, bool]:
    """Final landmark of a key whose events come at ``ts`` (in order), and whether it moved.

    Mirrors ``decay_weight`` in the Lua prelude: L starts at the first event's ts and jumps to
    an event's ts when that event lies more than RESCALE_AFTER_HALF_LIVES half-lives past L.
    """
    landmark, moved = ts[0], False
    for t in ts:
        if needs_rescale(t, landmark, half_life):
            landmark, moved = t, True
    return landmark, moved


def event_weights(ts: list[float], landmark: float, half_life: float, base: float) -> list[float]:
    """:func:`xsell.models.decay.event_weight` per event: ``base * 2^((t - L) / h)`` with
    ``math.pow`` (C ``pow``, as the Lua script's ``^``); ``base`` when decay is off."""
    return [event_weight(t, landmark, half_life, base) for t in ts]


def keep_top(groups: Array, weights: Array, member_rank: Array, cap: int) -> Array:
    """Boolean mask over entries (grouped by ``groups``, ascending) of what pruning keeps:
    every entry of a group of at most ``cap + cap // 4``, else the group's ``cap`` greatest
    by (weight, member byte order), like the script's ZREMRANGEBYRANK of the lowest ranks."""
    keep = np.ones(len(groups), dtype=bool)
    if cap <= 0 or len(groups) == 0:
        return keep
    sizes = np.bincount(groups)
    ends = np.cumsum(sizes)
    for g in np.flatnonzero(sizes > cap + cap // 4).tolist():
        lo, hi = int(ends[g] - sizes[g]), int(ends[g])
        w = weights[lo:hi]
        threshold = np.partition(w, len(w) - cap)[len(w) - cap]  # the cap-th greatest
        above = w > threshold
        tied = np.flatnonzero(w == threshold)
        room = cap - int(above.sum())  # how many of the tied survive: the greatest ids
        survivors = tied[np.argsort(member_rank[lo:hi][tied])[len(tied) - room :]]
        mask = above
        mask[survivors] = True
        keep[lo:hi] = mask
    return keep


def bulk_counts(
    orders: Iterable[PurchaseEvent],
    *,
    half_life: float,
    max_items_per_order: int,
    max_neighbors: int,
) -> BulkCounts:
    """Final values of streaming ``orders`` (in this order) into an empty namespace."""
    vocab: dict[str, int] = {}
    seen: set[str] = set()
    event_ids: list[str] = []
    order_ts: list[float] = []
    pop_items: list[list[int]] = []
    paired_lists: list[list[int]] = []
    histories: dict[str, dict[str, float]] = {}
    for order in orders:
        if order.event_id in seen:  # a repeated order is a duplicate: its done marker is set
            continue
        seen.add(order.event_id)
        event_ids.append(order.event_id)
        items = order.distinct_items()
        codes = [vocab.setdefault(i, len(vocab)) for i in items]
        order_ts.append(order.ts)
        pop_items.append(codes)
        paired = codes[:max_items_per_order]
        paired_lists.append(paired if len(paired) >= 2 else [])
        if order.user_id is not None:
            mine = histories.setdefault(order.user_id, {})
            for item in items:
                if item not in mine or mine[item] < order.ts:
                    mine[item] = order.ts
    names = list(vocab)
    global_w, global_l, moved = _global_weights(order_ts, half_life)
    popularity = _popularity(pop_items, global_w, len(names))
    counts = BulkCounts(
        vocab=names,
        pair_offsets=np.zeros(len(names) + 1, dtype=np.int64),
        pair_partner=np.zeros(0, dtype=np.int64),
        pair_weight=np.zeros(0),
        landmarks={},
        popularity={names[c]: w for c, w in popularity.items()},
        order_total=math.fsum(global_w) if half_life > 0 else float(len(global_w)),
        latest_ts=max(order_ts) if order_ts else None,
        global_landmark=global_l if half_life > 0 and order_ts else None,
        histories=histories,
        event_ids=event_ids,
        rescaled_keys=int(moved),
    )
    _pairs(counts, paired_lists, order_ts, half_life, max_neighbors)
    return counts


def _global_weights(order_ts: list[float], half_life: float) -> tuple[list[float], float, bool]:
    """Popularity weight per order (meta landmark chain) and the final meta landmark."""
    if not order_ts:
        return [], 0.0, False
    if half_life <= 0:
        return [1.0] * len(order_ts), 0.0, False
    landmark, moved = landmark_chain(order_ts, half_life)
    return event_weights(order_ts, landmark, half_life, 1.0), landmark, moved


def _popularity(pop_items: list[list[int]], weights: list[float], size: int) -> dict[int, float]:
    """Per item code: the sum, in order sequence, of the weights of the orders holding it."""
    if not pop_items:
        return {}
    codes = np.fromiter((c for items in pop_items for c in items), dtype=np.int64)
    w = np.repeat(np.asarray(weights), [len(items) for items in pop_items])
    present, sums = sum_by_key(codes, w, size)
    return dict(zip(present.tolist(), sums.tolist(), strict=True))


def _pairs(
    counts: BulkCounts,
    paired_lists: list[list[int]],
    order_ts: list[float],
    half_life: float,
    cap: int,
) -> None:
    """Co-purchase weights of every target item: per-target landmark chains, directed pair
    entries in order sequence, summed with bincount, then pruned (module doc)."""
    size = len(counts.vocab)
    occ_item = np.fromiter((c for p in paired_lists for c in p), dtype=np.int64)
    lengths = np.array([len(p) for p in paired_lists], dtype=np.int64)
    occ_ts = np.repeat(np.asarray(order_ts, dtype=np.float64), lengths)
    occ_w = _target_weights(counts, occ_item, occ_ts, half_life)
    a, b, w = pair_entries(occ_item, lengths, occ_w)
    if not a.size:
        return
    counts.pair_increments = int(a.size)
    keys, sums = sum_by_key(a * size + b, w, size * size)
    groups, members = keys // size, keys % size
    keep = keep_top(groups, sums, _byte_rank(counts.vocab)[members], cap)
    groups, members, sums = groups[keep], members[keep], sums[keep]
    counts.pair_offsets = np.searchsorted(groups, np.arange(size + 1), side="left")
    counts.pair_partner, counts.pair_weight = members, sums


def pair_entries(occ_item: Array, lengths: Array, occ_w: Array) -> tuple[Array, Array, Array]:
    """Directed pair entries (target, partner, target's weight) of every order, order after
    order: order o's items are ``occ_item[s:s+m]`` (m = lengths[o]); each item is a target
    paired with each other item (what APPLY_PAIRS mode 'all' increments)."""
    per = lengths * (lengths - 1)
    if not int(per.sum()):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    templates = {m: _pair_template(m) for m in set(lengths.tolist()) if m >= 2}
    listed = [m for m in lengths.tolist() if m >= 2]
    offset = np.repeat(np.cumsum(lengths) - lengths, per)
    ia = np.concatenate([templates[m][0] for m in listed]) + offset
    ib = np.concatenate([templates[m][1] for m in listed]) + offset
    return occ_item[ia], occ_item[ib], occ_w[ia]


def _pair_template(m: int) -> tuple[Array, Array]:
    """Positions (target, partner) of the m(m-1) directed pairs of m items, target-major."""
    a, b = np.repeat(np.arange(m), m), np.tile(np.arange(m), m)
    return a[a != b], b[a != b]


def sum_by_key(codes: Array, weights: Array, space: int) -> tuple[Array, Array]:
    """(distinct codes ascending, sum of their weights in input order). A direct bincount
    when the code space is small enough, else through np.unique; both add in input order."""
    if space <= DENSE_SPACE:
        present = np.flatnonzero(np.bincount(codes, minlength=space))
        return present, np.bincount(codes, weights=weights, minlength=space)[present]
    keys, inverse = np.unique(codes, return_inverse=True)
    return keys, np.bincount(inverse.ravel(), weights=weights, minlength=len(keys))


def _target_weights(counts: BulkCounts, occ_item: Array, occ_ts: Array, half_life: float) -> Array:
    """Weight of each (order, target) occurrence, from the target's own landmark chain."""
    if half_life <= 0:
        return np.ones(len(occ_item))
    order = np.argsort(occ_item, kind="stable")  # per item, in order sequence
    items = occ_item[order]
    bounds = np.flatnonzero(np.diff(items)) + 1
    out = np.empty(len(occ_item))
    ts_sorted = occ_ts[order].tolist()
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(items)], strict=True):
        ts = ts_sorted[lo:hi]
        landmark, moved = landmark_chain(ts, half_life)
        counts.landmarks[int(items[lo])] = landmark
        counts.rescaled_keys += int(moved)
        out[order[lo:hi]] = event_weights(ts, landmark, half_life, 1.0)
    return out


def _byte_rank(vocab: list[str]) -> Array:
    """Rank of each id in Redis' member order (byte-wise), for pruning ties."""
    ranks = np.empty(len(vocab), dtype=np.int64)
    ranks[sorted(range(len(vocab)), key=lambda c: vocab[c].encode())] = np.arange(len(vocab))
    return ranks
