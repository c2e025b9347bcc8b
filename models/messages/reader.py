"""Reading a record through the message declarations (pydantic's ``model_validate_json``).

The worker's hot path reads records with :mod:`xsell.models.validate`, which is faster (module doc
there); this reader is the declaration's own, used to check that the two agree
(tests/unit/test_messages.py) and measured against it (``python -m xsell.bench.parse_bench``).
A rejection is an :class:`~xsell.models.errors.InvalidEvent` whose reason names the field.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from xsell.models.errors import InvalidEvent
from xsell.models.events import Event, Limits
from xsell.models.messages import inputs, shop
from xsell.models.messages.rules import check_size
from xsell.models.profile import ProfileUpdate

MODELS: dict[str, type[BaseModel]] = {
    "cart-events": inputs.CartEventMessage,
    "orders": inputs.OrderEventMessage,
    "catalog": shop.CatalogItemMessage,
    "feedback": shop.FeedbackMessage,
    "profiles": shop.ProfileMessage,
}


def reason(error: ErrorDetails) -> str:
    """One pydantic error as a dead-letter reason: ``field: what is wrong``, an order line's
    fields as ``items[i].field``."""
    loc = [str(p) for p in error["loc"] if p not in ("purchase", "forget")]
    where = ""
    for part in loc:
        where += f"[{part}]" if part.isdigit() else (f".{part}" if where else part)
    if error["type"] == "invalid_event":
        text = str(error["msg"])
        parent = where.rsplit(".", 1)[0] if "[" in where else ""
        return f"{parent}.{text}" if parent else text
    if error["type"] == "missing":
        return f"{where}: missing"
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def read_message(stream: str, raw: bytes | str | None, limits: Limits) -> Event | ProfileUpdate:
    """One record of the logical topic ``stream`` validated by its declaration."""
    model = MODELS.get(stream)
    if model is None:
        raise InvalidEvent(f"no parser for topic {stream!r}")
    try:
        message = model.model_validate_json(check_size(raw, limits), context={"limits": limits})
    except ValidationError as exc:
        raise InvalidEvent(reason(exc.errors()[0])) from None
    event: Event | ProfileUpdate = message.to_event()  # type: ignore[attr-defined]
    return event
