"""The input messages of the shop's side topics, declared once as pydantic models: catalogue
records, feedback on offers and user profiles (docs/contract.md). Like
:mod:`xsell.models.messages.inputs`, whose base they share: validated with the worker's rules,
published as JSON Schemas, turned into the engine's values with ``to_event``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, PlainValidator, WithJsonSchema

from xsell.models.events import FEEDBACK_TYPES, CatalogItem, FeedbackEvent
from xsell.models.messages.fields import (
    Active,
    Id,
    Name,
    OptionalId,
    Price,
    Stock,
    Tags,
    Ts,
    kind_check,
    kind_schema,
    ref,
    reported,
)
from xsell.models.messages.inputs import INPUT_NOTE, Input
from xsell.models.notify_policy import CHANNELS
from xsell.models.profile import (
    ProfileUpdate,
    check_attributes,
    check_consent,
    check_timezone,
)


class CatalogItemMessage(Input):
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
    cost: Price = Field(
        None,
        description="Optional: what the item costs the shop; bundles keep their gross margin "
        "at least XSELL_BUNDLE_MIN_MARGIN_PERCENT where every item has one.",
    )
    brand: OptionalId = Field(None, description="Optional: the item's brand or vendor.")
    tags: Tags = None

    def to_event(self) -> CatalogItem:
        return CatalogItem(
            self.item_id,
            self.category,
            self.price,
            self.stock,
            self.active,
            self.name,
            tags=tuple(self.tags or ()),
            cost=self.cost,
        )


class FeedbackMessage(Input):
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

Attributes = Annotated[
    dict[str, str | None],
    PlainValidator(reported(lambda v, info: check_attributes(v)), json_schema_input_type=Any),
    WithJsonSchema(
        {
            "description": "Profile attributes (e.g. location, age_band): carried on the user's "
            "suggestions and notifications (segment.attributes) and matched by merchant rules as "
            "NAME:VALUE; an attribute not given keeps its value, null removes it.",
            "type": ["object", "null"],
            "maxProperties": 20,
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]{0,31}$", "not": {"const": "spend"}},
            "additionalProperties": {"type": ["string", "null"], "minLength": 1, "maxLength": 64},
        }
    ),
]


class ProfileMessage(Input):
    model_config = ConfigDict(
        title="Profile",
        json_schema_extra={
            "description": "A value of the profiles topic (default name xsell.profiles; key: "
            "user_id), written by the shop: the user's time zone, consent per notification "
            "channel and profile attributes. Absent fields (or null) keep their earlier value. "
            + INPUT_NOTE,
            "additionalProperties": ref("json_7"),
        },
    )

    type: Annotated[str, kind_check("user"), kind_schema("user")]
    user_id: Id
    timezone: Timezone = None
    consent: Consent = Field(default_factory=dict)
    attributes: Attributes = Field(default_factory=dict)

    def to_event(self) -> ProfileUpdate:
        return ProfileUpdate(self.user_id, self.timezone, dict(self.consent), dict(self.attributes))
