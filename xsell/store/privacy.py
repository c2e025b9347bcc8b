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


class PrivacyStore:
    """Per-user data: cart, purchase history, latest suggestions, self-tuning's open test
    cases and the attribution ledger."""

    def __init__(self, runner: Runner, keys: Keys) -> None:
        self._runner = runner
        self._keys = keys

    def _user_keys(self, user_id: str) -> list[str]:
        k = self._keys
        return [
            k.cart(user_id),
            k.history(user_id),
            k.recent(user_id),  # the followed-by window
            k.latest(user_id),
            k.tune_lists(user_id),  # self-tuning's open test cases
            *k.ledger(user_id),
        ]

    async def held_records(self, user_id: str) -> int:
        """How many of the user's records (one per key: cart, history, ...) exist now."""
        existed = await self._runner.run([("EXISTS", key) for key in self._user_keys(user_id)])
        return int(sum(existed))

    async def export(self, user_id: str) -> dict[str, Any]:
        """What xsell holds about the user, as plain values: the cart (item -> added at, epoch
        seconds), the purchases (item -> last bought at) and the latest suggestions
        (placement -> message); one round trip."""
        k = self._keys
        cart, history, latest = await self._runner.run(
            [
                ("HGETALL", k.cart(user_id)),
                ("HGETALL", k.history(user_id)),
                ("HGETALL", k.latest(user_id)),
            ]
        )
        return {
            "user_id": user_id,
            "cart": {item: _float(value.split("|", 1)[0]) for item, value in cart.items()},
            "purchases": {item: _float(value) for item, value in history.items()},
            "suggestions": {place: _json(value) for place, value in latest.items()},
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
