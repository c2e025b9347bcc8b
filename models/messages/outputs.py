"""The messages xsell writes (suggestions, notifications, dead letters) and the API's bodies,
declared once as pydantic models (docs/contract.md).

The worker builds these messages itself (xsell/engine.py, xsell/notify/messages.py,
streams/handler.py) and does not validate them on the way out: the models are their published
shape, from which docs/schemas/ is generated and which the API uses as its request bodies and
response models. tests/unit/test_schemas_outputs.py checks the built messages against the schemas.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

UTC_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z$"
Text = Annotated[str, Field(min_length=1)]
Variant = Annotated[str, Field(min_length=1, max_length=64)]
ItemIds = Annotated[
    list[Text], Field(min_length=1, max_length=1000, json_schema_extra={"uniqueItems": True})
]
Placement = Literal[
    "cart", "checkout", "post_purchase", "product_page", "cart_abandoned", "support"
]
MESSAGE_NOTE = "Consumers must ignore properties they do not know."


def rules_version_field() -> Any:
    """The ``rules_version`` of a message with offers."""
    return Field(
        0,
        ge=0,
        description="The merchant rules' version the offers were ranked with (docs/rules.md); "
        "0: no rule was ever saved. Absent in messages written before rules existed.",
    )


class SegmentOut(BaseModel):
    """A shopper's segment (docs/personal.md)."""

    model_config = ConfigDict(title="Segment")

    lifecycle: Literal["new", "returning", "loyal"] = Field(
        description="new: no order yet; returning: fewer than XSELL_SEGMENT_LOYAL_MIN_ORDERS "
        "orders; loyal: at least that many."
    )
    spend: Literal["low", "mid", "high"] | None = Field(
        description="The shopper's total spend among all shoppers': low (the bottom "
        "XSELL_SEGMENT_LOW_SPEND_SHARE), high (the top XSELL_SEGMENT_HIGH_SPEND_SHARE), mid "
        "between; null without an order."
    )
    attributes: dict[str, str] | None = Field(
        None,
        description="The profile attributes the shop sent on the profiles topic (e.g. "
        "location, age_band); absent when none.",
    )


def segment_field() -> Any:
    """The ``segment`` of a message with offers."""
    return Field(
        None,
        description="The user's segment when the offers were ranked (merchant rules match it, "
        "docs/rules.md); null for a guest, the holdout, or in messages written before segments "
        "existed.",
    )


def utc_time(description: str) -> Any:
    """An RFC 3339 UTC time as xsell writes it (``...Z``, at most microseconds)."""
    return Field(
        description=description, pattern=UTC_TIME, json_schema_extra={"format": "date-time"}
    )


class FollowedBy(BaseModel):
    """share of the buyers of item bought the offered item within days after it."""

    item: Text = Field(description="The item bought (one of the trigger's items).")
    share: float = Field(
        ge=0,
        le=1,
        description="Decayed first purchases of the offered item within days after an order of "
        "item, by the same customer / decayed orders holding item (guests' orders included).",
    )
    days: int = Field(ge=1, description="The window (XSELL_FOLLOWED_WINDOW_DAYS).")


class Rebuy(BaseModel):
    """An owned item offered again: its buyers buy it about every every_days days."""

    every_days: int = Field(
        ge=1,
        description="The item's mean gap between a buyer's consecutive purchases of it, in "
        'days (rounded): "you buy this about every 3 weeks".',
    )
    last_days: int = Field(ge=0, description="Days since this user last bought the item.")


class Because(BaseModel):
    """Why: the trigger or cart item that contributed most."""

    item_id: Text = Field(description="The anchor item.")
    together: float = Field(
        ge=0,
        description="Decayed co-purchase weight of the anchor and the item (~ orders holding "
        "both).",
    )
    confidence: float = Field(
        ge=0, description="together / decayed order count of the anchor (~ P(item | anchor))."
    )
    category: Text | None = Field(
        None,
        description="Set when the anchor's category explains the offer, not the anchor itself "
        "(an anchor with few orders backs off to its category, XSELL_CATEGORY_BACKOFF): the "
        "item is often bought with this category. together and confidence are then the "
        "category's: orders holding both, and that / orders holding the category.",
    )
    rule_id: Text | None = Field(
        None,
        description="Set when a merchant rule placed the offer (pinned, promoted or boosted; "
        "docs/rules.md); together and confidence are 0 when the rule alone placed it.",
    )
    free_shipping_gap: float | None = Field(
        None,
        gt=0,
        description="Only on a gap_filler: what the cart lacks for free shipping "
        "(XSELL_FREE_SHIPPING_THRESHOLD - the cart's total of catalogue prices).",
    )
    followed_by: FollowedBy | None = Field(
        None,
        description="Only on a post_purchase suggestion, when what buyers of an earlier "
        "purchase bought next explains the offer best (item_id is then that purchase).",
    )
    co_viewed: float | None = Field(
        None,
        gt=0,
        description="Set when co-views placed the offer (product page: the item's co-purchase "
        "evidence left room, before popular items): how many shoppers viewed both the anchor "
        "and the item close together; together and confidence are then 0.",
    )
    rebuy: Rebuy | None = Field(
        None,
        description="Only on a rebuy offer (added 2026-12): the item is the user's own (item_id "
        "is the item itself; together and confidence are 0), bought again by its buyers and "
        "due for this user (docs/personal.md).",
    )


class Offer(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"kind": {"const": "popular"}}},
            "then": {"properties": {"because": {"type": "null"}}},
            "else": {"properties": {"because": {"type": "object"}}},
        }
    )

    item_id: Text
    score: float = Field(
        ge=0,
        description="Ranking score (comparable within one message only); popular items: "
        "popularity relative to the most popular item, in [0, 1].",
    )
    kind: Literal["cross_sell", "upsell", "popular", "gap_filler", "rebuy"] = Field(
        description="gap_filler: the cart is short of free shipping by at most "
        "XSELL_FREE_SHIPPING_MAX_GAP and the item's price closes the gap "
        "(because.free_shipping_gap). rebuy (added 2026-12): an item the known user bought "
        "before, which its buyers buy again and which is due (because.rebuy); at most "
        "XSELL_MAX_REBUYS per message."
    )
    because: Because | None


Offers = Annotated[
    list[Offer],
    Field(
        max_length=50,
        description="Offers, best first: at most XSELL_MAX_SUGGESTIONS (default 3, at most "
        "50); may be empty. Never an item of the trigger or the cart.",
    ),
]


class SuggestionTrigger(BaseModel):
    type: Literal["add_to_cart", "purchase"]
    event_id: Text
    item_ids: ItemIds = Field(
        description="add_to_cart: the added item; purchase: the order's distinct items in line "
        "order."
    )


class SuggestionMessage(BaseModel):
    model_config = ConfigDict(
        title="Suggestion",
        json_schema_extra={
            "description": "A value of the suggestions topic (default name xsell.suggestions; "
            "key: user_id, none when user_id is null), written by the worker: one per "
            "add_to_cart (placement cart) and one per purchase (placement post_purchase). "
            "suggestion_id is derived from the trigger's topic and event_id, so a redelivered "
            "event gives the same suggestion_id again: consumers dedupe on it. " + MESSAGE_NOTE,
            "if": {"properties": {"placement": {"const": "cart"}}},
            "then": {
                "properties": {
                    "user_id": {"type": "string"},
                    "trigger": {
                        "properties": {
                            "type": {"const": "add_to_cart"},
                            "item_ids": {"maxItems": 1},
                        }
                    },
                }
            },
            "else": {"properties": {"trigger": {"properties": {"type": {"const": "purchase"}}}}},
        },
    )

    suggestion_id: str = Field(pattern=r"^sug-[0-9a-f]{32}$")
    user_id: Text | None
    placement: Literal["cart", "post_purchase"]
    trigger: SuggestionTrigger
    items: Offers
    created_at: str = utc_time("When the worker ranked it: RFC 3339, UTC.")
    variant: Variant = Field(
        description='The user\'s experiment variant (docs/contract.md, "Experiments"): default '
        "when no experiment is configured; control (the holdout) always with no items."
    )
    rules_version: int = rules_version_field()
    segment: SegmentOut | None = segment_field()


class NotificationTrigger(BaseModel):
    type: Literal["add_to_cart", "remove_from_cart", "purchase"]
    event_id: Text
    item_ids: ItemIds = Field(
        description="cart activity: its item; purchase: the order's distinct items in line "
        "order, then those of the user's later orders that joined this notification, oldest "
        "first (the newest 1000)."
    )


class NotificationMessage(BaseModel):
    model_config = ConfigDict(
        title="Notification",
        json_schema_extra={
            "description": "A value of the notifications topic (default name "
            "xsell.notifications; key: user_id), written by the worker at (or just after) "
            "send_at: the sender delivers it on receipt, on its channel. notification_id "
            "derives from the reason and the trigger: a redelivered trigger never makes a "
            "second, different notification, and a notification may be published again with "
            "the same id and the same content after a worker crash: senders dedupe on "
            "notification_id. " + MESSAGE_NOTE,
            "if": {"properties": {"reason": {"enum": ["post_purchase", "replenish"]}}},
            "then": {"properties": {"trigger": {"properties": {"type": {"const": "purchase"}}}}},
            "else": {
                "properties": {
                    "trigger": {
                        "properties": {
                            "type": {"enum": ["add_to_cart", "remove_from_cart"]},
                            "item_ids": {"maxItems": 1},
                        }
                    }
                }
            },
        },
    )

    notification_id: str = Field(pattern=r"^ntf-[0-9a-f]{32}$")
    user_id: Text
    channel: Literal["push", "email", "sms", "zalo"] = Field(
        description="The first channel of XSELL_NOTIFY_CHANNELS the user consented to that was "
        "not capped."
    )
    reason: Literal["post_purchase", "cart_abandoned", "replenish"] = Field(
        description="replenish (added 2026-12, only with XSELL_NOTIFY_REPLENISH): the user's "
        "owned items that are due to be bought again."
    )
    items: list[Offer] = Field(
        min_length=1,
        max_length=50,
        description="Offers as in suggestions, best first, ranked when it was sent: never an "
        "item of the cart or the order, owned, or notified to the user within "
        "XSELL_NOTIFY_REPEAT_DAYS. Never empty. A replenish offers only owned items due "
        'again, each kind "rebuy" (nearest its cycle first).',
    )
    trigger: NotificationTrigger = Field(
        description="cart_abandoned: the cart's last activity; post_purchase: the order; "
        "replenish: the user's latest order."
    )
    send_at: str = utc_time("When it was due (after quiet hours or a cap held it), RFC 3339 UTC.")
    expires_at: str = utc_time(
        "Do not deliver after this (XSELL_NOTIFY_TTL_SECONDS after its first due time)."
    )
    created_at: str = utc_time("When the worker ranked its items, RFC 3339 UTC.")
    variant: Variant = Field(
        description="The user's experiment variant (never control: the holdout gets no "
        "notification)."
    )
    rules_version: int = rules_version_field()
    recently_viewed: list[Text] | None = Field(
        None,
        max_length=50,
        description="Only on cart_abandoned (added 2026-12): the user's recently viewed items "
        "(view events) that are not in the cart, newest first, at most "
        "XSELL_NOTIFY_RECENTLY_VIEWED (5); empty when there are none.",
    )
    segment: SegmentOut | None = segment_field()


class DeadLetterMessage(BaseModel):
    model_config = ConfigDict(
        title="Dead letter",
        json_schema_extra={
            "description": "A value of the dead-letter topic (default name xsell.dead-letter; "
            "no key), written by the worker for each input record that is not a valid event (or "
            "fails on its own after retries). " + MESSAGE_NOTE
        },
    )

    error: Text = Field(
        description='Human-readable reason, e.g. "ts: outside 1970..2100"; "internal error: '
        '..." when processing failed.'
    )
    topic: Text = Field(description="Full name of the input topic, e.g. xsell.orders.")
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    payload: str = Field(
        max_length=100_000,
        description="The record value as text (invalid UTF-8 replaced by U+FFFD), truncated to "
        "XSELL_DEAD_LETTER_PAYLOAD_CHARS characters (100,000, the default and the most); the "
        "error then says so.",
    )
