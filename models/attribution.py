"""Attribution: which suggestion earns an item added to a cart or bought.

The rules (the store's Lua, xsell/store/attribution/lua.py, applies them atomically in Redis;
this is their reference, and a test holds the two equal on random histories):

- **Explicit before implicit.** An event that names a ``suggestion_id`` (a cart event, an order
  line) credits that suggestion, if it offered the item to this user within the window.
  Otherwise (no name, an unknown one, or too old) the item goes to the latest suggestion that
  offered it to the user, if within the window; else to none. Why: the shop knows best where
  a click came from; when it does not say, the last offer before the decision is the one the
  user acted on (last touch, as Recombee, Algolia and Personalize attribute).
- **The window** (``XSELL_ATTRIBUTION_WINDOW_SECONDS``, a day): an offer older than that, or
  made after the event, earns nothing.
- **Once per item:** an offered item counts as accepted once, whether added then bought or
  bought straight away; its revenue (price x quantity) counts once, at its first purchase.
- **Rules' share.** An item a merchant rule placed (its offer's ``because.rule_id``) credits
  what it earns to its placement and also to ``rule:RULE_ID`` (same variant): the report's
  per-rule rows, without a second way to attribute.
- **Segments' share.** An offer made to a user of a known segment (the message's ``segment``:
  lifecycle, spend tier) credits what it earns also to ``seg:LIFECYCLE`` and ``spend:TIER``
  (same variant), the segment of when it was offered: the report's per-segment rows.
- **Cannibalization:** an add-to-cart that accepts an offer remembers the offer's trigger items
  (the items the suggestion answered); if one of them then leaves the cart (remove_from_cart)
  before the user's next purchase and within the window of the offer, the acceptance counts
  ``cannibalized``, once (in the rule's row too). Why: the shopper swapped the item that
  prompted the offer for the offered one, so the acceptance added nothing to the basket; a
  purchase in between means both were bought.
- **Anonymous users** have no ledger: a purchase without a user is counted in its variant's
  orders and revenue (assigned by its order id), and attributes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Offer:
    ts: float
    placement: str
    variant: str
    accepted: bool = False
    bought: bool = False
    rule: str | None = None  # the merchant rule that placed the item, if one did
    cannibalized: bool = False
    segment: tuple[str, str] | None = None  # (lifecycle, spend tier or '') when offered


@dataclass
class Ledger:
    """One user's offers within the window."""

    offers: dict[tuple[str, str], Offer] = field(default_factory=dict)  # (suggestion, item)
    latest: dict[str, str] = field(default_factory=dict)  # item -> suggestion of its last offer
    triggers: dict[str, list[str]] = field(default_factory=dict)  # suggestion -> trigger items
    # trigger item -> the offers accepted by an add while it was their trigger, with the epoch
    kept: dict[str, list[tuple[tuple[str, str], int]]] = field(default_factory=dict)
    epoch: int = 0  # purchases so far: a purchase ends the cart


Delta = tuple[str, str, str, float]  # (placement, variant, counter, amount)


def record(
    ledger: Ledger,
    suggestion: str,
    ts: float,
    placement: str,
    variant: str,
    items: list[str],
    rules: dict[str, str] | None = None,
    triggers: list[str] | None = None,
    segment: tuple[str, str] | None = None,
) -> None:
    """A suggestion published to the user: its items join the ledger (a redelivery changes
    nothing); each becomes its item's latest offer unless a later one holds it. ``rules``:
    item -> the rule that placed it; ``triggers``: the items the suggestion answered;
    ``segment``: the user's (lifecycle, spend tier or '') when offered."""
    if items and triggers:
        ledger.triggers.setdefault(suggestion, list(triggers))
    for item in items:
        rule = (rules or {}).get(item)
        ledger.offers.setdefault(
            (suggestion, item), Offer(ts, placement, variant, rule=rule, segment=segment)
        )
        held = ledger.latest.get(item)
        if held is None or held == suggestion or ledger.offers[(held, item)].ts <= ts:
            ledger.latest[item] = suggestion


def credited(
    ledger: Ledger, item: str, explicit: str | None, ts: float, window: float
) -> Offer | None:
    """The offer an event for ``item`` at ``ts`` credits (module doc), or None: the named
    suggestion's offer if it is valid, else the item's latest offer if that one is."""
    candidates = [ledger.offers.get((explicit, item)) if explicit else None]
    if item in ledger.latest:
        candidates.append(ledger.offers.get((ledger.latest[item], item)))
    for offer in candidates:
        if offer is not None and offer.ts <= ts and ts - offer.ts <= window:
            return offer
    return None


def on_add(
    ledger: Ledger, item: str, explicit: str | None, ts: float, window: float
) -> list[Delta]:
    """An add-to-cart: the credited offer is accepted (once)."""
    offer = credited(ledger, item, explicit, ts, window)
    if offer is None or offer.accepted:
        return []
    offer.accepted = True
    key = next(k for k, o in ledger.offers.items() if o is offer)
    for trigger in ledger.triggers.get(key[0], []):
        kept = ledger.kept.setdefault(trigger, [])
        if trigger != item and len(kept) < MAX_KEPT:
            kept.append((key, ledger.epoch))
    return earned(offer, "accepted", 1.0)


def earned(offer: Offer, counter: str, amount: float) -> list[Delta]:
    """What an offer earns, in its placement, in its rule's row when a rule placed it, and
    in its segment's rows (lifecycle, spend tier) when known."""
    out: list[Delta] = [(offer.placement, offer.variant, counter, amount)]
    if offer.rule:
        out.append((f"rule:{offer.rule}", offer.variant, counter, amount))
    life, spend = offer.segment or ("", "")
    if life:
        out.append((f"seg:{life}", offer.variant, counter, amount))
    if spend:
        out.append((f"spend:{spend}", offer.variant, counter, amount))
    return out


MAX_KEPT = 100  # acceptances kept per trigger item (a bound on the ledger's field)


def on_remove(ledger: Ledger, item: str, ts: float, window: float) -> list[Delta]:
    """A remove-from-cart: the acceptances kept under ``item`` since the last purchase, of
    offers made within the window, are cannibalized (each once); the item's list is emptied."""
    out: list[Delta] = []
    for key, epoch in ledger.kept.pop(item, []):
        offer = ledger.offers.get(key)
        if offer is None or epoch != ledger.epoch or ts - offer.ts > window:
            continue
        if not offer.cannibalized:
            offer.cannibalized = True
            out += earned(offer, "cannibalized", 1.0)
    return out


def on_purchase(ledger: Ledger) -> None:
    """After a purchase's lines (on_buy): what was accepted before can no longer be
    cannibalized."""
    ledger.epoch += 1


def on_buy(
    ledger: Ledger, item: str, explicit: str | None, revenue: float, ts: float, window: float
) -> list[Delta]:
    """A purchased item (its lines summed): accepted once, and its revenue counted once."""
    offer = credited(ledger, item, explicit, ts, window)
    if offer is None:
        return []
    out: list[Delta] = []
    if not offer.accepted:
        offer.accepted = True
        out += earned(offer, "accepted", 1.0)
    if not offer.bought:
        offer.bought = True
        out += earned(offer, "attributed_revenue", revenue)
    return out
