"""The field types of the input messages: each couples one rule of
:mod:`xsell.models.messages.rules` (how a value is checked) with its JSON Schema fragment (how
docs/schemas/ publishes it), so a rule and its documentation cannot drift apart.

A check reports an :class:`~xsell.models.errors.InvalidEvent` reason as a pydantic error of type
``invalid_event`` whose message is that reason, word for word; the limits of the settings
(id length, order lines) come in the validation context (``{"limits": Limits}``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import PlainValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from xsell.models.errors import InvalidEvent
from xsell.models.events import Limits
from xsell.models.messages import rules

DEFAULT_LIMITS = Limits()


def ref(name: str) -> dict[str, Any]:
    """A placeholder for a shared definition; the schema generator turns it into a ``$ref``."""
    return {"x-def": name}


def limits_of(info: ValidationInfo) -> Limits:
    """The settings' limits of this validation (the defaults without a context)."""
    context = info.context
    found = context.get("limits") if isinstance(context, dict) else None
    return found if isinstance(found, Limits) else DEFAULT_LIMITS


def reported(check: Callable[[Any, ValidationInfo], Any]) -> Callable[[Any, ValidationInfo], Any]:
    """``check`` with its InvalidEvent turned into a pydantic error carrying the same reason."""

    def validate(value: Any, info: ValidationInfo) -> Any:
        try:
            return check(value, info)
        except InvalidEvent as exc:
            raise PydanticCustomError("invalid_event", "{reason}", {"reason": exc.reason}) from None

    return validate


def _name(info: ValidationInfo) -> str:
    return info.field_name or "value"


Id = Annotated[
    str,
    PlainValidator(
        reported(lambda v, info: rules.required_id(v, _name(info), limits_of(info))),
        json_schema_input_type=Any,
    ),
    WithJsonSchema(ref("id")),
]
OptionalId = Annotated[
    str | None,
    PlainValidator(
        reported(lambda v, info: rules.optional_id(v, _name(info), limits_of(info))),
        json_schema_input_type=Any,
    ),
    WithJsonSchema({"anyOf": [ref("id"), {"type": "null"}]}),
]
Ts = Annotated[
    float,
    PlainValidator(reported(lambda v, info: rules.parse_ts(v)), json_schema_input_type=Any),
    WithJsonSchema(ref("ts")),
]
Quantity = Annotated[
    float,
    PlainValidator(
        reported(lambda v, info: rules.number(v, _name(info), rules.MAX_QUANTITY, 1.0) or 0.0),
        json_schema_input_type=Any,
    ),
    WithJsonSchema(ref("quantity")),
]
Price = Annotated[
    float | None,
    PlainValidator(
        reported(lambda v, info: rules.number(v, _name(info), rules.MAX_PRICE, None)),
        json_schema_input_type=Any,
    ),
    WithJsonSchema(ref("price")),
]
Stock = Annotated[
    float | None,
    PlainValidator(
        reported(lambda v, info: rules.number(v, _name(info), rules.MAX_STOCK, None)),
        json_schema_input_type=Any,
    ),
    WithJsonSchema(
        {
            "description": "Units in stock, [0, 1e9]; null or absent: unknown (available).",
            "type": ["number", "null"],
            "minimum": 0,
            "maximum": 1000000000,
        }
    ),
]
Active = Annotated[
    bool,
    PlainValidator(
        reported(lambda v, info: rules.flag(v, _name(info))), json_schema_input_type=Any
    ),
    WithJsonSchema({"description": "false: never suggested.", "type": "boolean", "default": True}),
]
Tags = Annotated[
    tuple[str, ...] | None,
    PlainValidator(reported(lambda v, info: rules.tag_list(v)), json_schema_input_type=Any),
    WithJsonSchema(
        {
            "description": "Optional: the item's tags (at most 32 texts of 1..64 characters); "
            "null or absent: none. Merchant rules boost and promote by tag (docs/rules.md).",
            "type": ["array", "null"],
            "maxItems": rules.MAX_TAGS,
            "items": {"type": "string", "minLength": 1, "maxLength": rules.MAX_TAG_LENGTH},
        }
    ),
]
Name = Annotated[
    str | None,
    PlainValidator(
        reported(lambda v, info: rules.display_name(v, limits_of(info))),
        json_schema_input_type=Any,
    ),
    WithJsonSchema(
        {
            "description": "Display name (any text; at most XSELL_MAX_NAME_LENGTH characters, "
            "the default here).",
            "type": ["string", "null"],
            "maxLength": DEFAULT_LIMITS.max_name_length,
        }
    ),
]


def kind_check(*allowed: str) -> PlainValidator:
    """The check of a record's ``type``: one of ``allowed``."""
    return PlainValidator(
        reported(lambda v, info: rules.one_of(v, allowed)), json_schema_input_type=Any
    )


def kind_schema(*allowed: str) -> WithJsonSchema:
    """How a record's ``type`` is published: a const, or an enum of several."""
    return WithJsonSchema({"const": allowed[0]} if len(allowed) == 1 else {"enum": list(allowed)})
