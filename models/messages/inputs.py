"""The input messages of the contract (docs/contract.md, "Topics"), declared once as pydantic
models: what the shop writes to the cart-events, orders, catalog, feedback and profiles topics.

Each model validates with the rules of :mod:`models.messages.rules` (``model_validate_json``
with ``context={"limits": settings.limits}``), publishes its JSON Schema
(:mod:`models.messages.schemas`) and turns into the event the engine works with
(``to_event``). Properties not declared are allowed and ignored, but bounded like the worker
bounds them: nested at most 8 levels in all, no NaN or Infinity.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    RootModel,
    Tag,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from models.events import (
    FEEDBACK_TYPES,
    CartEvent,
    CatalogItem,
    FeedbackEvent,
    ForgetUser,
    OrderLine,
)
from models.events import PurchaseEvent as PurchaseValue
from models.messages.fields import (
    Active,
    Id,
    Name,
    OptionalId,
    Price,
    Quantity,
    Stock,
    Ts,
    kind_check,
    kind_schema,
    ref,
    reported,
)
from models.messages.rules import MAX_NESTING, depth
from models.notify_policy import CHANNELS
from models.profile import ProfileUpdate, check_consent, check_timezone

INPUT_NOTE = (
    "Every record value is one UTF-8 JSON object of at most 1 MiB (XSELL_MAX_PAYLOAD_BYTES), "
    "nested at most 8 levels deep (the top object is level 1), without NaN or Infinity. "
    "Properties not listed here are allowed and ignored. A record that does not match goes to "
    "the dead-letter topic with the reason."
)


def _finite(value: Any) -> bool:
    """No NaN or Infinity anywhere in a decoded JSON value (JSON has neither)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


class _Input(BaseModel):
    """An input record: extra properties allowed, bounded in depth (``extra_levels``)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    extra_levels: ClassVar[int] = MAX_NESTING - 1  # a top-level property sits at level 2

    @model_validator(mode="after")
    def _bounded_extras(self) -> _Input:
        extra = self.__pydantic_extra__ or {}
        if depth(list(extra.values()), self.extra_levels + 1) > self.extra_levels + 1:
            raise PydanticCustomError(
                "invalid_event", "JSON nested deeper than {n} levels", {"n": MAX_NESTING}
            )
        if not _finite(extra):
            raise PydanticCustomError("invalid_event", "not JSON: NaN or Infinity", {})
        return self


class CartEventMessage(_Input):
    model_config = ConfigDict(
        title="Cart event",
        json_schema_extra={
            "description": "A value of the cart-events topic (default name xsell.cart-events; "
            "key: user_id). add_to_cart yields one suggestion (placement cart); "
            "remove_from_cart yields none. " + INPUT_NOTE,
            "additionalProperties": ref("json_7"),
        },
    )

    event_id: Id = Field(
        description="Unique per event within the topic; a repeated event_id changes no state."
    )
    type: Annotated[
        str,
        kind_check("add_to_cart", "remove_from_cart"),
        kind_schema("add_to_cart", "remove_from_cart"),
    ]
    user_id: Id
    item_id: Id
    ts: Ts
    quantity: Quantity = 1.0
    price: Price = None
    session_id: OptionalId = Field(None, description="Optional session id.")
    suggestion_id: OptionalId = Field(
        None,
        description="Optional: the suggestion the item was added from (explicit attribution, "
        "like a recommId).",
    )

    def to_event(self) -> CartEvent:
        return CartEvent(
            self.event_id,
            self.type,
            self.user_id,
            self.item_id,
            self.ts,
            self.quantity,
            self.price,
            self.session_id,
            self.suggestion_id,
        )


class OrderLineMessage(_Input):
    model_config = ConfigDict(
        title="Order line",
        json_schema_extra={
            "additionalProperties": ref("json_5"),
            "$comment": "A line sits at level 3 (object, items, line), so its extra properties "
            "may nest 5 more levels.",
        },
    )
    extra_levels: ClassVar[int] = MAX_NESTING - 3

    item_id: Id
    quantity: Quantity = 1.0
    price: Price = None
    suggestion_id: OptionalId = Field(
        None, description="Optional: the suggestion the line came from (explicit attribution)."
    )

    def to_line(self) -> OrderLine:
        return OrderLine(self.item_id, self.quantity, self.price, self.suggestion_id)


class PurchaseMessage(_Input):
    model_config = ConfigDict(
        title="Purchase", json_schema_extra={"additionalProperties": ref("json_7")}
    )

    event_id: Id = Field(
        description='Unique per event within the topic; `xsell replay` uses "order-" + the '
        "first 24 hex digits of SHA-256(order_id)."
    )
    type: Annotated[str, kind_check("purchase"), kind_schema("purchase")]
    order_id: Id
    user_id: OptionalId = Field(
        None, description="The buyer; null or absent for an anonymous order."
    )
    ts: Ts
    items: list[OrderLineMessage] = Field(
        description="Order lines in add-to-cart order (1..1000, the default of "
        "XSELL_MAX_ORDER_LINES); an item may repeat.",
        min_length=1,
        max_length=1000,
    )

    def to_event(self) -> PurchaseValue:
        lines = tuple(line.to_line() for line in self.items)
        return PurchaseValue(self.event_id, self.order_id, self.user_id, self.ts, lines)


class ForgetUserMessage(_Input):
    model_config = ConfigDict(
        title="Forget user", json_schema_extra={"additionalProperties": ref("json_7")}
    )

    event_id: Id
    type: Annotated[str, kind_check("forget_user"), kind_schema("forget_user")]
    user_id: Id
    ts: Ts

    def to_event(self) -> ForgetUser:
        return ForgetUser(self.event_id, self.user_id, self.ts)


def _order_kind(value: Any) -> str:
    """Which model reads an orders record: forget_user, else a purchase (whose ``type`` check
    then names what is wrong)."""
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "forget" if kind == "forget_user" else "purchase"


class OrderEventMessage(RootModel[PurchaseMessage | ForgetUserMessage]):
    """A value of the orders topic: a purchase or a forget_user, told apart by ``type``."""

    model_config = ConfigDict(
        title="Order event",
        json_schema_extra={
            "description": "A value of the orders topic (default name xsell.orders; key: "
            "user_id): a purchase, which yields one suggestion (placement post_purchase), or a "
            "forget_user request, which deletes the user's cart and purchase history and yields "
            "none. " + INPUT_NOTE,
            "type": "object",
            "required": ["type"],
        },
    )
    root: Annotated[
        Annotated[PurchaseMessage, Tag("purchase")] | Annotated[ForgetUserMessage, Tag("forget")],
        Discriminator(_order_kind),
    ]

    def to_event(self) -> PurchaseValue | ForgetUser:
        return self.root.to_event()


class CatalogItemMessage(_Input):
    model_config = ConfigDict(
        title="Catalog item",
        json_schema_extra={
            "description": "A value of the catalog topic (default name xsell.catalog; key: "
            "item_id): the current description of one item, replacing the previous one (last "
            "write wins). Inactive items and items with stock 0 are never suggested; items "
            "never described are suggestible. Yields no suggestion. " + INPUT_NOTE,
            "additionalProperties": ref("json_7"),
        },
    )

    # declared in the order the worker checks them: the first failing one is the reason
    type: Annotated[str, kind_check("item"), kind_schema("item")]
    active: Active = True
    category: OptionalId = Field(
        None, description="Category id; a pricier item of the anchor's category is an upsell."
    )
    name: Name = None
    item_id: Id
    price: Price = None
    stock: Stock = None

    def to_event(self) -> CatalogItem:
        return CatalogItem(
            self.item_id, self.category, self.price, self.stock, self.active, self.name
        )


class FeedbackMessage(_Input):
    model_config = ConfigDict(
        title="Feedback",
        json_schema_extra={
            "description": "A value of the feedback topic (default name xsell.feedback; key: "
            "user_id): what the storefront saw happen to a suggestion or a notification. Each "
            "(type, suggestion_id, item_id) counts once; event_id makes a redelivery a no-op. "
            + INPUT_NOTE,
            "additionalProperties": ref("json_7"),
        },
    )

    type: Annotated[str, kind_check(*FEEDBACK_TYPES), kind_schema(*FEEDBACK_TYPES)]
    event_id: Id
    suggestion_id: Id = Field(
        description="The suggestion_id (or notification_id) the storefront was shown."
    )
    user_id: Id
    ts: Ts = Field(description="RFC 3339 with an offset, or epoch seconds, as in the other events.")
    item_id: OptionalId = Field(
        None,
        description="The offer clicked or dismissed; absent: the whole suggestion (an impression).",
    )

    def to_event(self) -> FeedbackEvent:
        return FeedbackEvent(
            self.event_id, self.type, self.suggestion_id, self.user_id, self.ts, self.item_id
        )


Timezone = Annotated[
    str | None,
    PlainValidator(reported(lambda v, info: check_timezone(v)), json_schema_input_type=Any),
    WithJsonSchema(
        {
            "description": "IANA time zone name (e.g. Asia/Ho_Chi_Minh) of the user's wall clock "
            "for quiet hours; users without one get XSELL_NOTIFY_TIMEZONE.",
            "type": ["string", "null"],
            "pattern": "^[A-Za-z0-9_+\\-]+(/[A-Za-z0-9_+\\-]+)*$",
            "maxLength": 64,
        }
    ),
]
Consent = Annotated[
    dict[str, bool],
    PlainValidator(reported(lambda v, info: check_consent(v)), json_schema_input_type=Any),
    WithJsonSchema(
        {
            "description": "Consent per channel; a channel not given keeps its earlier answer "
            "(none: XSELL_NOTIFY_DEFAULT_CONSENT).",
            "type": ["object", "null"],
            "properties": {c: {"type": ["boolean", "null"]} for c in CHANNELS},
            "additionalProperties": False,
        }
    ),
]


class ProfileMessage(_Input):
    model_config = ConfigDict(
        title="Profile",
        json_schema_extra={
            "description": "A value of the profiles topic (default name xsell.profiles; key: "
            "user_id), written by the shop: the user's time zone and consent per notification "
            "channel. Absent fields (or null) keep their earlier value. " + INPUT_NOTE,
            "additionalProperties": ref("json_7"),
        },
    )

    type: Annotated[str, kind_check("user"), kind_schema("user")]
    user_id: Id
    timezone: Timezone = None
    consent: Consent = Field(default_factory=dict)

    def to_event(self) -> ProfileUpdate:
        return ProfileUpdate(self.user_id, self.timezone, dict(self.consent))
