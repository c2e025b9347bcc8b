"""Records of the profiles topic: a user's time zone, consent per channel and profile attributes
(docs/contract.md).

Checked like every input record (:mod:`xsell.models.validate`): an invalid one goes to the dead
letter with its reason. Absent fields (or ``null``) keep their earlier value, so a shop may send
only what changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from xsell.models.errors import InvalidEvent
from xsell.models.events import Limits
from xsell.models.notify_policy import CHANNELS, zone
from xsell.models.validate import decode_json, parse_id


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    user_id: str
    timezone: str | None = None  # None: unchanged
    consent: dict[str, bool] = field(default_factory=dict)  # only the channels given
    attributes: dict[str, str | None] = field(default_factory=dict)  # None: removed


ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_ATTRIBUTES = 20
MAX_ATTRIBUTE_LENGTH = 64
RESERVED_ATTRIBUTES = frozenset({"spend"})  # a rule's "spend:high" is the spend tier


def parse_profile(raw: bytes | str | None, limits: Limits) -> ProfileUpdate:
    """One profiles record -> ProfileUpdate, or InvalidEvent with the reason."""
    obj = decode_json(raw, limits)
    kind = obj.get("type")
    if kind != "user":
        raise InvalidEvent(f"type: expected 'user', got {str(kind)[:40]!r}")
    if obj.get("user_id") is None:
        raise InvalidEvent("user_id: missing")
    user = parse_id(obj["user_id"], "user_id", limits)
    return ProfileUpdate(
        user,
        check_timezone(obj.get("timezone")),
        check_consent(obj.get("consent")),
        check_attributes(obj.get("attributes")),
    )


def check_timezone(value: Any) -> str | None:
    """An IANA time zone name the worker knows, or null (unchanged)."""
    if value is not None and (not isinstance(value, str) or zone(value) is None):
        raise InvalidEvent("timezone: expected an IANA time zone name (e.g. Asia/Ho_Chi_Minh)")
    return value


def check_consent(given: Any) -> dict[str, bool]:
    """The channels answered: known channels only, true or false; null entries are skipped
    (unchanged), as is a null or absent ``consent``."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise InvalidEvent("consent: expected an object of channel -> true/false")
    consent: dict[str, bool] = {}
    for channel, value in given.items():
        if channel not in CHANNELS:
            raise InvalidEvent(f"consent: unknown channel {str(channel)[:40]!r}")
        if value is None:
            continue
        if not isinstance(value, bool):
            raise InvalidEvent(f"consent.{channel}: expected true or false")
        consent[channel] = value
    return consent


def check_attributes(given: Any) -> dict[str, str | None]:
    """Profile attributes (``location``, ``age_band`` ...): at most 20 names of lower-case
    letters, digits and ``_``, each a string of 1..64 characters, or null to remove it. Kept
    small and plain because every suggestion carries them and rules match them as
    ``NAME:VALUE`` (models/segments.py)."""
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise InvalidEvent("attributes: expected an object of name -> string")
    if len(given) > MAX_ATTRIBUTES:
        raise InvalidEvent(f"attributes: at most {MAX_ATTRIBUTES}")
    out: dict[str, str | None] = {}
    for name, value in given.items():
        if not isinstance(name, str) or not ATTRIBUTE_NAME.match(name):
            raise InvalidEvent(f"attributes: bad name {str(name)[:40]!r} (a-z, 0-9, _)")
        if name in RESERVED_ATTRIBUTES:
            raise InvalidEvent(f"attributes: {name!r} is reserved")
        if value is not None and (
            not isinstance(value, str) or not 0 < len(value) <= MAX_ATTRIBUTE_LENGTH
        ):
            raise InvalidEvent(f"attributes.{name}: expected a string of 1..64 characters")
        out[name] = value
    return out
