"""What the store holds about one shopper, for ``forget-user`` (docs/security.md).

The erasure itself is the ``forget_user`` event, applied like any other
(:meth:`xsell.store.core.apply.EventStore.apply`), and the notification state's
(:meth:`xsell.store.notifications.store.NotificationStore.cancel_all`); this room only counts
what there was to erase, and gives it out when a shop is asked for it (:meth:`export`)."""

from __future__ import annotations

import json
from typing import Any

from xsell.store.backend.client import Runner
from xsell.store.core.keys import Keys
from xsell.store.core.reader import parse_scores


class PrivacyStore:
    """Per-user data: cart, purchase history, recently viewed items, latest suggestions,
    self-tuning's open test cases, segment counters (and profile attributes) and the
    attribution ledger."""

    def __init__(self, runner: Runner, keys: Keys) -> None:
        self._runner = runner
        self._keys = keys

    def _user_keys(self, user_id: str) -> list[str]:
        k = self._keys
        return [
            k.cart(user_id),
            k.history(user_id),
            k.recent(user_id),  # the followed-by window
            k.follow_memo(user_id),  # ... its answers of a batch not yet committed
            k.views(user_id),  # recently viewed items
            k.latest(user_id),
            k.tune_lists(user_id),  # self-tuning's open test cases
            k.tune_followed_lists(user_id),  # ... of the followed-by weight
            k.tune_rebuy_lists(user_id),  # ... of the number of buy-again places
            k.segment(user_id),  # orders, total spend, profile attributes
            k.user_markers(user_id),
            *k.ledger(user_id),
        ]

    async def held_records(self, user_id: str) -> int:
        """How many of the user's records (one per key: cart, history, ...) exist now."""
        existed = await self._runner.run([("EXISTS", key) for key in self._user_keys(user_id)])
        return int(sum(existed))

    async def export(self, user_id: str) -> dict[str, Any]:
        """What xsell holds about the user, as plain values: the cart (item -> added at, epoch
        seconds), the purchases (item -> last bought at), the recently viewed items (item ->
        last viewed at), the latest suggestions (placement -> message) and the segment hash as
        stored (o orders, s total spend in hundredths, b its histogram bucket, a:NAME profile
        attributes); one round trip."""
        k = self._keys
        cart, history, latest, viewed, segment = await self._runner.run(
            [
                ("HGETALL", k.cart(user_id)),
                ("HGETALL", k.history(user_id)),
                ("HGETALL", k.latest(user_id)),
                ("ZRANGE", k.views(user_id), 0, -1, "WITHSCORES"),
                ("HGETALL", k.segment(user_id)),
            ]
        )
        items, times = parse_scores(viewed)
        return {
            "user_id": user_id,
            "cart": {item: _float(value.split("|", 1)[0]) for item, value in cart.items()},
            "purchases": {item: _float(value) for item, value in history.items()},
            "viewed": dict(zip(items, times, strict=True)),
            "suggestions": {place: _json(value) for place, value in latest.items()},
            "segment": dict(segment),
        }


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
