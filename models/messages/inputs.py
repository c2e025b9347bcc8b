"""The input messages of the contract (docs/contract.md, "Topics"), declared once as pydantic
models: what the shop writes to the cart-events, orders, catalog, feedback and profiles topics.

Each model validates with the rules of :mod:`xsell.models.messages.rules` (``model_validate_json``
with ``context={"limits": settings.limits}``), publishes its JSON Schema
(:mod:`xsell.models.messages.schemas`) and turns into the event the engine works with
(``to_event``). Properties not declared are allowed and ignored, but bounded like the worker
bounds them: nested at most 8 levels in all, no NaN or Infinity.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    Tag,
    model_validator,
)
from pydantic_core import PydanticCustomError

from xsell.models.events import (
    CartEvent,
    ForgetUser,
    OrderLine,
)
from xsell.models.events import PurchaseEvent as PurchaseValue
from xsell.models.messages.fields import (
    Id,
    OptionalId,
    Price,
    Quantity,
    Ts,
    kind_check,
    kind_schema,
    limits_of,
    ref,
    reported,
)
from xsell.models.messages.rules import MAX_NESTING, depth, order_lines

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


class Input(BaseModel):
    """An input record: extra properties allowed, bounded in depth (``extra_levels``)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    extra_levels: ClassVar[int] = MAX_NESTING - 1  # a top-level property sits at level 2

    @model_validator(mode="after")
    def _bounded_extras(self) -> Input:
        extra = self.__pydantic_extra__ or {}
        if depth(list(extra.values()), self.extra_levels + 1) > self.extra_levels + 1:
            raise PydanticCustomError(
                "invalid_event", "JSON nested deeper than {n} levels", {"n": MAX_NESTING}
            )
        if not _finite(extra):
            raise PydanticCustomError(
                "invalid_event", "not JSON: NaN or Infinity is not a JSON number"
            )
        return self


class CartEventMessage(Input):
    model_config = ConfigDict(
        title="Cart event",
        json_schema_extra={
            "description": "A value of the cart-events topic (default name xsell.cart-events; "
            "key: user_id). add_to_cart yields one suggestion (placement cart); "
            "remove_from_cart yields none; view (an item page seen: changes no cart, counts "
            "as no add-to-cart nor purchase) yields none and feeds the co-view partners and "
            "the user's recently viewed items. " + INPUT_NOTE,
            "additionalProperties": ref("json_7"),
        },
    )

    event_id: Id = Field(
        description="Unique per event within the topic; a repeated event_id changes no state."
    )
    type: Annotated[
        str,
        kind_check("add_to_cart", "remove_from_cart", "view"),
        kind_schema("add_to_cart", "remove_from_cart", "view"),
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


class OrderLineMessage(Input):
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

    bundle_id: OptionalId = Field(
        None,
        description="Optional: the bundle_id of GET /v1/items/{item_id}/bundle when the line was "
        "bought as part of that bundle.",
    )

    def to_line(self) -> OrderLine:
        return OrderLine(
            self.item_id, self.quantity, self.price, self.suggestion_id, self.bundle_id
        )


class PurchaseMessage(Input):
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
    items: Annotated[
        list[OrderLineMessage],
        BeforeValidator(reported(lambda v, info: order_lines(v, limits_of(info)))),
    ] = Field(
        description="Order lines in add-to-cart order (1..1000, the default of "
        "XSELL_MAX_ORDER_LINES); an item may repeat.",
        json_schema_extra={"minItems": 1, "maxItems": 1000},
    )

    def to_event(self) -> PurchaseValue:
        lines = tuple(line.to_line() for line in self.items)
        return PurchaseValue(self.event_id, self.order_id, self.user_id, self.ts, lines)


class ForgetUserMessage(Input):
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
