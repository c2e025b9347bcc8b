"""What the store holds about one shopper, for ``forget-user`` (docs/security.md).

The erasure itself is the ``forget_user`` event, applied like any other
(:meth:`xsell.store.core.apply.EventStore.apply`), and the notification state's
(:meth:`xsell.store.notifications.store.NotificationStore.cancel_all`); this room only counts
what there was to erase."""

from __future__ import annotations

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
            k.latest(user_id),
            k.tune_lists(user_id),  # self-tuning's open test cases
            *k.ledger(user_id),
        ]

    async def held_records(self, user_id: str) -> int:
        """How many of the user's records (one per key: cart, history, ...) exist now."""
        existed = await self._runner.run([("EXISTS", key) for key in self._user_keys(user_id)])
        return int(sum(existed))
