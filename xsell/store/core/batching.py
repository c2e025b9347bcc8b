"""One round trip's calls with the per-event scripts merged into per-batch ones, answered as
if they had run one by one.

The apply (:mod:`xsell.store.core.apply`) builds its calls event by event, which keeps its
logic simple; :func:`run_merged` sends fewer, larger script calls and hands back an answer per
original call, so the caller does not change:

- every single-Redis co-add pair call -> one
  :data:`~xsell.store.core.pair_batch.APPLY_PAIRS_BATCH` (each original call answers the
  batch's count of events applied), and every co-view pair call -> another one: calls merge
  only with calls of the same half-life and cap, which a batch call shares (co-views are
  plain counts, co-adds decay with XSELL_HALF_LIFE_DAYS);
- a cart's CART_UPDATE calls -> one :data:`~xsell.store.core.carts.CART_UPDATES`, and a
  ledger's ATTRIBUTE calls -> one
  :data:`~xsell.store.attribution.attribute_batch.ATTRIBUTE_MANY` (each original call answers
  its own item of the merged answer), when no other call of the round trip names that cart or
  ledger (a purchase empties the cart, a forget deletes both, a redelivered event reads the
  cart, a feedback writes the ledger), so that moving them together cannot reorder anything;
- a report day's COUNT calls -> one :data:`~xsell.store.attribution.count_batch.COUNT_MANY`.

A merged call takes the place of the last call it replaces: later is safe for both, as
nothing else in the round trip touches what they touch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from xsell.store.attribution.attribute_batch import merge_attribute_calls
from xsell.store.attribution.count_batch import merge_count_calls
from xsell.store.attribution.lua import ATTRIBUTE, COUNT
from xsell.store.backend.client import Call, Runner
from xsell.store.backend.scripts import LuaScript
from xsell.store.core.carts import CART_UPDATE, merge_cart_calls
from xsell.store.core.lua import APPLY_PAIRS
from xsell.store.core.pair_batch import merge_pair_calls

# per-key scripts whose calls of one key merge into one, answered per call
LISTED: dict[Any, Callable[[Sequence[Call]], Call]] = {
    CART_UPDATE: merge_cart_calls,
    ATTRIBUTE: merge_attribute_calls,
    COUNT: merge_count_calls,
}


def _names(call: Call) -> list[str]:
    """The keys (and other text arguments) a call names."""
    if isinstance(call[0], LuaScript):
        return [str(k) for k in call[1]]
    return [a for a in call[1:] if isinstance(a, str)]


def _merges_pairs(call: Call) -> bool:
    """A single-Redis co-add pair call (kind 'done', mode 'star'). A purchase's pairs (mode
    'all') stay one call each: every item of an order pairs with every other, so a batch of
    them holds hundreds of partners per zset, and keeping them in Lua tables cost Redis more
    CPU than the commands saved (2.1 ms per purchase instead of 1.5, on 2,000 Online Retail
    II orders in batches of 200); a cart's co-adds touch the same few items again and again."""
    return call[0] is APPLY_PAIRS and call[2][7] == "done" and call[2][9] == "star"


def plan(calls: Sequence[Call]) -> tuple[list[Call], list[tuple[int, int | None]]]:
    """The merged calls, and for each original call where its answer is: (merged call's
    index, None = the whole answer, or n = the n-th item of a merged list answer)."""
    groups: list[tuple[list[int], bool]] = []  # (original indexes, answers listed per call)
    pair_groups: dict[tuple[Any, Any], list[int]] = {}
    for n, c in enumerate(calls):
        if _merges_pairs(c):  # a batch call has one half-life (ARGV 3) and cap (ARGV 5)
            pair_groups.setdefault((c[2][2], c[2][4]), []).append(n)
    groups += [(pairs, False) for pairs in pair_groups.values() if len(pairs) >= 2]
    per_key: dict[tuple[Any, str], list[int]] = {}
    named: set[str] = set()
    for n, c in enumerate(calls):
        if c[0] in LISTED:
            per_key.setdefault((c[0], str(c[1][0])), []).append(n)
        else:
            named.update(_names(c))
    groups += [(ix, True) for (_, key), ix in per_key.items() if len(ix) > 1 and key not in named]

    last: dict[int, tuple[Call, list[int], bool]] = {}
    dropped: set[int] = set()
    for idx, listed in groups:
        members = [calls[n] for n in idx]
        merged = LISTED[members[0][0]](members) if listed else merge_pair_calls(members)
        last[idx[-1]] = (merged, idx, listed)
        dropped.update(idx[:-1])
    out: list[Call] = []
    where: list[tuple[int, int | None]] = [(-1, None)] * len(calls)
    for n, call in enumerate(calls):
        if n in dropped:
            continue
        if n in last:
            merged, idx, listed = last[n]
            for k, m in enumerate(idx):
                where[m] = (len(out), k if listed else None)
            out.append(merged)
        else:
            where[n] = (len(out), None)
            out.append(call)
    return out, where


async def run_merged(runner: Runner, calls: Sequence[Call]) -> list[Any]:
    """Run ``calls`` in one round trip with the merges of :func:`plan`; one answer per call."""
    merged, where = plan(calls)
    answers = await runner.run(merged)
    return [answers[m] if k is None else answers[m][k] for m, k in where]
