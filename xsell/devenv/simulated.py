"""The demo's simulated shoppers' answers to the offers, so that a person watching the
dashboard sees acceptance and uplift emerge (it is a simulation, and the demo says so).

Each synthetic shopper who is shown a cart suggestion with offers (the widget would render it)
sends an impression; with probability ``ACCEPT`` (15%: a plausible rate for a well-placed
add-on offer, the simulation's parameter, not a measurement) the shopper clicks the first
cross-sell offer, adds it to the cart naming the suggestion, and buys it with the rest of the
cart if the session ends in a purchase. Holdout shoppers are shown nothing, so they accept
nothing: the difference in order value between the variants is what the offers add.

The simulated shoppers have a namespace of their own: every user id the demo makes up starts
with ``SIMULATED_PREFIX`` (``sim-``), and they answer only suggestions for such ids. The
visitor on the demo page (``visitor``) and any user of the API are never played: the demo
sends no event in their name.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

ACCEPT = 0.15
SIMULATED_PREFIX = "sim-"


def simulated_user(user_id: str) -> str:
    """The id of a simulated shopper: the prefix, once."""
    return user_id if is_simulated(user_id) else SIMULATED_PREFIX + user_id


def is_simulated(user_id: str | None) -> bool:
    """Whether a user id is one the demo made up (it may act for it)."""
    return user_id is not None and user_id.startswith(SIMULATED_PREFIX)


@dataclass
class Shoppers:
    """What the simulated shoppers accepted, until their next purchase."""

    prices: dict[str, float]
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    accepted: dict[str, list[str]] = field(default_factory=dict)
    answers: int = 0

    def react(self, message: dict[str, Any], now: float) -> list[tuple[str, dict[str, Any]]]:
        """The (topic, event) answers of a shopper to a suggestion they were shown."""
        user, sid = message["user_id"], message["suggestion_id"]
        if message["placement"] != "cart" or not message["items"] or not is_simulated(user):
            return []  # a real user's suggestion (the visitor's, an API user's): not ours
        out: list[tuple[str, dict[str, Any]]] = [
            (
                "feedback",
                {
                    "event_id": f"imp-{sid}",
                    "type": "impression",
                    "suggestion_id": sid,
                    "user_id": user,
                    "ts": now,
                },
            )
        ]
        offers = [o for o in message["items"] if o["kind"] == "cross_sell"]
        if offers and self.rng.random() < ACCEPT:
            item = offers[0]["item_id"]
            self.accepted.setdefault(user, []).append(item)
            self.answers += 1
            out.append(
                (
                    "feedback",
                    {
                        "event_id": f"clk-{sid}",
                        "type": "click",
                        "suggestion_id": sid,
                        "user_id": user,
                        "item_id": item,
                        "ts": now,
                    },
                )
            )
            out.append(
                (
                    "cart-events",
                    {
                        "event_id": f"acc-{sid}",
                        "type": "add_to_cart",
                        "user_id": user,
                        "item_id": item,
                        "ts": now,
                        "suggestion_id": sid,
                    },
                )
            )
        return out

    def priced(self, order: dict[str, Any]) -> dict[str, Any]:
        """A purchase with the catalogue's prices, and what its shopper accepted added."""
        if not is_simulated(order.get("user_id")) and order.get("user_id") is not None:
            raise ValueError(f"not a simulated shopper: {order['user_id']!r}")
        have = {line["item_id"] for line in order["items"]}
        extra = [i for i in self.accepted.pop(order["user_id"], []) if i not in have]
        lines = [*order["items"], *({"item_id": i} for i in extra)]
        priced = [
            {**line, "price": self.prices[line["item_id"]]}
            if line["item_id"] in self.prices
            else line
            for line in lines
        ]
        return {**order, "items": priced}
