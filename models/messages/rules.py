"""The input rules of the event contract, as small pure checks (docs/contract.md, "Input values").

One implementation of each rule, used by both readers of a record: the pydantic declaration of
every message (:mod:`xsell.models.messages.inputs`, which the JSON Schemas and the API's models come
from) and the worker's hot-path parser (:mod:`xsell.models.validate`, kept because it is faster:
docs/benchmarks.md). Each check raises :class:`~xsell.models.errors.InvalidEvent` with a reason that
names the field, which is what a dead letter carries.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from xsell.models.errors import InvalidEvent
from xsell.models.events import Limits

MAX_NESTING = 8  # deeper JSON than this is rejected before use
MAX_PRICE = 1e9
MAX_QUANTITY = 1e6
MAX_STOCK = MAX_QUANTITY * 1000
MAX_TAGS = 32  # a catalogue item's tags
MAX_TAG_LENGTH = 64
MIN_TS = 0.0  # 1970
MAX_TS = 4102444800.0  # 2100-01-01


def parse_ts(value: Any) -> float:
    """Epoch seconds from RFC 3339 text or an epoch number."""
    if isinstance(value, bool):
        raise InvalidEvent("ts: expected RFC 3339 text or epoch seconds, got a boolean")
    if isinstance(value, int | float):
        ts = as_float(value, "ts")
    elif isinstance(value, str):
        text = value.strip()
        try:
            ts = float(text)
        except ValueError:
            if text[-1:] in ("Z", "z"):
                text = text[:-1] + "+00:00"
            try:
                parsed = datetime.fromisoformat(text)
            except (ValueError, OverflowError):
                raise InvalidEvent(f"ts: not RFC 3339 or epoch seconds: {value[:40]!r}") from None
            if parsed.tzinfo is None:
                raise InvalidEvent("ts: RFC 3339 time needs a UTC offset (e.g. 'Z')") from None
            ts = parsed.timestamp()
    else:
        raise InvalidEvent(f"ts: expected RFC 3339 text or epoch seconds, got {kind(value)}")
    if not (MIN_TS <= ts <= MAX_TS) or math.isnan(ts):
        raise InvalidEvent("ts: outside 1970..2100")
    return ts


def as_float(value: int | float, name: str) -> float:
    """A JSON number as a float; a huge integer is an invalid event, not a crash."""
    try:
        return float(value)
    except OverflowError:
        raise InvalidEvent(f"{name}: number too large") from None


def kind(value: Any) -> str:
    """The JSON-ish name of a value's type, for reasons."""
    return "null" if value is None else type(value).__name__


def parse_id(value: Any, key: str, limits: Limits) -> str:
    """An id as the contract defines it (a string of 1..max_id_length printable characters,
    or an integer), for a record's field or an API's path and query parameters alike."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidEvent(f"{key}: expected a string id, got {kind(value)}")
    text = str(value)
    if not text:
        raise InvalidEvent(f"{key}: empty")
    if len(text) > limits.max_id_length:
        raise InvalidEvent(f"{key}: longer than {limits.max_id_length} characters")
    if not text.isprintable():
        raise InvalidEvent(f"{key}: contains control or non-printable characters")
    return text


def required_id(value: Any, key: str, limits: Limits) -> str:
    """A required id: absent and null are both "missing"."""
    if value is None:
        raise InvalidEvent(f"{key}: missing")
    return parse_id(value, key, limits)


def optional_id(value: Any, key: str, limits: Limits) -> str | None:
    """An optional id: null means absent."""
    return None if value is None else parse_id(value, key, limits)


def number(value: Any, key: str, upper: float, default: float | None) -> float | None:
    """A finite number in [0, upper]; null means absent (``default``)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEvent(f"{key}: expected a number, got {kind(value)}")
    result = as_float(value, key)
    if not math.isfinite(result) or result < 0 or result > upper:
        raise InvalidEvent(f"{key}: must be a finite number in [0, {upper:g}]")
    return result


def display_name(value: Any, limits: Limits) -> str | None:
    """A catalogue item's name: any text of at most ``max_name_length`` characters, or null."""
    if value is not None and (not isinstance(value, str) or len(value) > limits.max_name_length):
        raise InvalidEvent(f"name: expected text of at most {limits.max_name_length} characters")
    return value


def tag_list(value: Any) -> tuple[str, ...] | None:
    """A catalogue item's tags: at most MAX_TAGS texts of 1..MAX_TAG_LENGTH characters, or null."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise InvalidEvent(f"tags: expected an array of at most {MAX_TAGS} texts")
    for index, tag in enumerate(value):
        if not isinstance(tag, str) or not 1 <= len(tag) <= MAX_TAG_LENGTH:
            raise InvalidEvent(f"tags[{index}]: expected text of 1..{MAX_TAG_LENGTH} characters")
    return tuple(value)


def flag(value: Any, key: str) -> bool:
    """A boolean that must be a JSON boolean (not 0, 1 or "true")."""
    if not isinstance(value, bool):
        raise InvalidEvent(f"{key}: expected true or false, got {kind(value)}")
    return value


def one_of(value: Any, allowed: tuple[str, ...]) -> str:
    """A record's ``type`` among ``allowed``."""
    if value not in allowed:
        if len(allowed) == 1:
            raise InvalidEvent(f"type: expected {allowed[0]!r}, got {str(value)[:40]!r}")
        raise InvalidEvent(f"type: expected one of {list(allowed)}, got {str(value)[:40]!r}")
    return str(value)


def order_lines(items: Any, limits: Limits) -> list[Any]:
    """An order's lines: a list of 1..max_order_lines entries (each checked on its own)."""
    if not isinstance(items, list):
        raise InvalidEvent(f"items: expected a list, got {kind(items)}")
    if not items:
        raise InvalidEvent("items: empty order")
    if len(items) > limits.max_order_lines:
        raise InvalidEvent(f"items: {len(items)} lines, more than {limits.max_order_lines}")
    return items


def depth(value: Any, limit: int) -> int:
    """Nesting depth of a decoded JSON value, stopping once ``limit`` is exceeded."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def check_size(raw: bytes | str | None, limits: Limits) -> bytes | str:
    """A record value present and within XSELL_MAX_PAYLOAD_BYTES."""
    if raw is None:
        raise InvalidEvent("empty record value")
    if len(raw) > limits.max_payload_bytes:
        raise InvalidEvent(f"payload larger than {limits.max_payload_bytes} bytes")
    return raw


def decode_json(raw: bytes | str | None, limits: Limits) -> dict[str, Any]:
    """Decode one record value into a JSON object, or raise InvalidEvent."""
    raw = check_size(raw, limits)
    try:
        obj = json.loads(raw, parse_constant=_reject_constant)
    except InvalidEvent:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidEvent(f"not JSON: {str(exc)[:120]}") from None
    if not isinstance(obj, dict):
        raise InvalidEvent(f"expected a JSON object, got {kind(obj)}")
    if depth(obj, MAX_NESTING) > MAX_NESTING:
        raise InvalidEvent(f"JSON nested deeper than {MAX_NESTING} levels")
    return obj


def _reject_constant(name: str) -> Any:
    raise InvalidEvent(f"not JSON: {name} is not a valid JSON number")
