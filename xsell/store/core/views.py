"""Views (an item page seen): each user's recently viewed items and the items' co-view partners.

A ``view`` record of the cart-events topic changes no cart and counts as no add-to-cart nor
purchase. Applying it (:class:`xsell.store.core.apply.EventStore`) takes the same round trips as
an add-to-cart:

- step 2 (``users``): :data:`VIEW_RECORD` notes the view in the user's recent views (the newest
  ``XSELL_VIEWS_MAX_ITEMS``, kept ``XSELL_VIEWS_TTL_SECONDS`` after the last view) and answers
  the items viewed before it within the co-view window (the newest ``XSELL_CO_VIEW_WINDOW``,
  at most ``XSELL_CO_VIEW_WINDOW_SECONDS`` earlier);
- step 3 (``co-adds``): the co-view pairs, with the co-add pairs' script
  (:data:`~xsell.store.core.lua.APPLY_PAIRS`, signal ``v``): B with each earlier A and A with
  B, one each, so co-view(A, B) counts the users who viewed both close together. Counts do not
  decay (half-life 0); each item keeps its ``XSELL_MAX_NEIGHBORS`` strongest partners, pruned
  as co-purchase partners are. Guarded like any pair script: a redelivered view counts once.
  On a single Redis the round trip's pair calls merge into one per-batch call
  (:mod:`xsell.store.core.batching`).

A second view of an item already in the window pairs nothing (a page reload is not new
evidence): only its time moves. :mod:`xsell.store.core.view_reads` reads both, for the product
page and the abandonment notifications; ``forget_user`` deletes the user's recent views.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from xsell.config.settings import Settings
from xsell.models.events import CartEvent, Event
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import lua_script, number_arg
from xsell.store.core.keys import Keys, Signal, Stream

if TYPE_CHECKING:  # calls.py builds VIEW_RECORD calls with view_call below
    from xsell.store.core.calls import CallBuilder

VIEW_RECORD = lua_script(
    "view_record",
    """
-- KEYS[1] the user's recent views zset (item -> its last view ts, s).
-- ARGV[1] the viewed item, ARGV[2] the view's ts (s), ARGV[3] the zset's lifetime after this
-- view (s), ARGV[4] the most items it keeps (the oldest views are dropped beyond it),
-- ARGV[5] the co-view window in views (the newest this many earlier views pair), ARGV[6] the
-- co-view window in seconds (earlier views at most this long before ARGV[2] pair).
-- The item's ts moves forward only (ZADD GT): a late, older view changes nothing.
-- returns: the items to pair the view with, most recent first: the other items viewed in
--   [ts - window, ts]; none when the item itself was already viewed in the window before
--   this view (a reload). A view seen again at its own ts (a redelivery) pairs as it did.
local ts, window = tonumber(ARGV[2]), tonumber(ARGV[6])
local prev = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
local out = {}
if not (prev and prev < ts and prev >= ts - window) then
  local near = redis.call('ZRANGE', KEYS[1], ARGV[2], ts - window, 'BYSCORE', 'REV',
                          'LIMIT', 0, tonumber(ARGV[5]) + 1)
  for _, item in ipairs(near) do
    if item ~= ARGV[1] and #out < tonumber(ARGV[5]) then out[#out + 1] = item end
  end
end
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return out
""",
)


def view_call(keys: Keys, settings: Settings, event: CartEvent) -> Call:
    """The VIEW_RECORD call of one view (step 2 of the apply)."""
    learning = settings.learning
    return (
        VIEW_RECORD,
        [keys.views(event.user_id)],
        [
            event.item_id,
            number_arg(event.ts),
            learning.views_ttl_seconds,
            learning.views_max_items,
            learning.co_view_window,
            number_arg(learning.co_view_window_seconds),
        ],
    )


def is_view_call(call: Call) -> bool:
    return call[0] is VIEW_RECORD


def view_partners(answer: Any) -> list[str]:
    """The items a VIEW_RECORD answer says the view pairs with."""
    return [str(item) for item in answer or []]


def co_view_calls(
    builder: CallBuilder,
    views: Sequence[tuple[int, Event]],
    calls: Sequence[Call],
    results: Sequence[Any],
    marked: set[int],
    now_ms: int,
) -> list[Call]:
    """Step 3's co-view pairs: each view (its index in the batch, the event) with the items
    its VIEW_RECORD of step 2 (``calls``, answered by ``results``) answered, counted 1 each
    way without decay. Adds to ``marked`` the views whose pair script sets their done key."""
    answers = iter(r for r, c in zip(results, calls, strict=True) if is_view_call(c))
    out: list[Call] = []
    for i, event in views:
        partners = view_partners(next(answers))
        assert isinstance(event, CartEvent)
        if not partners:
            continue
        targets = [event.item_id, *partners]
        new_calls = builder.pair_calls(
            event.event_id,
            event.ts,
            Stream.CART,
            1.0,
            "star",
            targets,
            targets,
            now_ms,
            signal=Signal.CO_VIEW,
            half_life=0.0,
        )
        if builder.marks_done(new_calls):
            marked.add(i)
        out.extend(new_calls)
    return out
