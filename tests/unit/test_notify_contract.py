"""The notification contract against the code: the profiles parser and schema agree, the
examples' ids are the derived ones, the messages the worker builds are valid, the settings'
defaults are the documented ones."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from xsell.config.settings import flat_defaults, load_settings
from xsell.models.errors import InvalidEvent
from xsell.models.events import Limits
from xsell.models.notify_policy import CART_ABANDONED, POST_PURCHASE, REPLENISH, notification_id
from xsell.models.profile import ProfileUpdate, parse_profile
from xsell.models.ranking import Because, Offer
from xsell.models.rebuy import Rebuy
from xsell.models.segments import Segment
from xsell.notify.messages import decision_entry, notification_message, rfc3339
from xsell.store.notifications.calls import Job

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")


def schema(name: str) -> jsonschema.protocols.Validator:
    doc = json.loads((ROOT / "docs" / "schemas" / f"{name}.schema.json").read_text())
    return jsonschema.Draft202012Validator(doc)


def examples(name: str) -> list[dict[str, Any]]:
    pattern = rf"^schema: \[{name}\]\(schemas/{name}\.schema\.json\)\n```json\n(.*?)\n```$"
    return [json.loads(m) for m in re.findall(pattern, CONTRACT, re.MULTILINE | re.DOTALL)]


def test_profile_examples_parse() -> None:
    first, second, third = examples("profile")
    assert parse_profile(json.dumps(first), Limits()) == ProfileUpdate(
        "18042", "Asia/Ho_Chi_Minh", {"push": True, "email": False}
    )
    assert parse_profile(json.dumps(second), Limits()) == ProfileUpdate(
        "18042", None, {"zalo": True}
    )
    assert parse_profile(json.dumps(third), Limits()) == ProfileUpdate(
        "18042", None, {}, {"location": "HN", "age_band": "25-34"}
    )


VALID = [
    {"type": "user", "user_id": 7},
    {"type": "user", "user_id": "u", "timezone": None, "consent": None},
    {"type": "user", "user_id": "u", "consent": {"sms": None}, "extra": 1},
    {"type": "user", "user_id": "u", "timezone": "America/Argentina/Buenos_Aires"},
]
INVALID = [
    {"type": "item", "user_id": "u"},
    {"type": "user"},
    {"type": "user", "user_id": ""},
    {"type": "user", "user_id": "u", "timezone": 5},
    {"type": "user", "user_id": "u", "timezone": "../etc/passwd"},
    {"type": "user", "user_id": "u", "consent": {"fax": True}},
    {"type": "user", "user_id": "u", "consent": {"push": "yes"}},
    {"type": "user", "user_id": "u", "consent": ["push"]},
]


@pytest.mark.parametrize("value", VALID)
def test_valid_profiles(value: dict[str, Any]) -> None:
    assert schema("profile").is_valid(value)
    parse_profile(json.dumps(value), Limits())


@pytest.mark.parametrize("value", INVALID)
def test_invalid_profiles(value: dict[str, Any]) -> None:
    assert not schema("profile").is_valid(value)
    with pytest.raises(InvalidEvent):
        parse_profile(json.dumps(value), Limits())


def test_unknown_zone_names_pass_the_schema_but_not_the_parser() -> None:
    value = {"type": "user", "user_id": "u", "timezone": "Mars/Olympus_Mons"}
    assert schema("profile").is_valid(value)  # a pattern cannot know the IANA database
    with pytest.raises(InvalidEvent, match="timezone"):
        parse_profile(json.dumps(value), Limits())


def test_example_ids_derive_from_reason_and_trigger() -> None:
    (message,) = examples("notification")
    letter = "o" if message["reason"] == POST_PURCHASE else "c"
    assert message["notification_id"] == notification_id(
        message["reason"], letter, message["trigger"]["event_id"]
    )
    command = CONTRACT.split("$ xsell notifications 18042 --json\n", 1)[1].split("\n", 1)[0]
    answer = json.loads(command)
    (pending,) = answer["pending"]
    assert pending["notification_id"] == notification_id(
        POST_PURCHASE, "o", pending["trigger"]["event_id"]
    )
    assert answer["decisions"][0]["notification_id"] == message["notification_id"]


def test_messages_of_the_worker_are_valid() -> None:
    job = Job(
        "ntf-" + "0" * 32,
        "u",
        CART_ABANDONED,
        {"type": "remove_from_cart", "event_id": "e", "item_ids": ["a"]},
        1e9,
        1e9 + 3600,
        1e9 + 90000,
    )
    offers = [
        Offer("b", 0.5, "cross_sell", Because("a", 3.0, 0.5)),
        Offer("c", 1.0, "popular", None),
    ]
    message = notification_message(job, "zalo", offers, 1e9 + 3600.25, "default")
    schema("notification").validate(message)
    assert message["send_at"] == "2001-09-09T02:46:40.000Z"
    assert message["created_at"] == rfc3339(1e9 + 3600.25)
    assert not schema("notification").is_valid({**message, "items": []})
    assert not schema("notification").is_valid({**message, "reason": POST_PURCHASE})
    entry = decision_entry(1e9, job.notification_id, job.reason, "deferred", "cap", until=2e9)
    assert entry["send_at"].startswith("2033-")
    # the user's segment rides along (docs/personal.md); a wrong one is refused
    seg = Segment("loyal", "high", {"location": "HN"})
    carried = notification_message(job, "zalo", offers, 1e9 + 3600.25, "default", 0, seg)
    schema("notification").validate(carried)
    assert carried["segment"] == {
        "lifecycle": "loyal",
        "spend": "high",
        "attributes": {"location": "HN"},
    }
    assert message["segment"] is None
    # a replenishment (added 2026-12): the user's latest order, owned items due again
    refill = Job(
        notification_id(REPLENISH, "o", "p1"),
        "u",
        REPLENISH,
        {"type": "purchase", "event_id": "p1", "item_ids": ["coffee", "mug"]},
        1e9,
        1e9 + 7 * 86400,
        1e9 + 8 * 86400,
    )
    due = [Offer("coffee", 0.0, "rebuy", Because("coffee", 0.0, 0.0, rebuy=Rebuy(10, 12)))]
    replenish = notification_message(refill, "push", due, 1e9 + 7 * 86400, "default")
    schema("notification").validate(replenish)
    assert replenish["items"][0]["because"]["rebuy"] == {"every_days": 10, "last_days": 12}
    cart_trigger = {"type": "add_to_cart", "event_id": "e", "item_ids": ["a"]}
    assert not schema("notification").is_valid({**replenish, "trigger": cart_trigger})
    bad = {**carried, "segment": {"lifecycle": "vip", "spend": None}}
    assert not schema("notification").is_valid(bad)
    assert not schema("suggestion").is_valid(
        {**examples("suggestion")[0], "segment": {"lifecycle": "new"}}
    )
    schema("suggestion").validate(
        {**examples("suggestion")[0], "segment": {"lifecycle": "new", "spend": None}}
    )


def test_documented_defaults_are_the_settings() -> None:
    for name, value in flat_defaults().items():
        if name.startswith("notify_"):
            default = value if value != "" else "empty"
            shown = str(default)
            if isinstance(default, float):  # 5184000, not 5.184e+06
                shown = str(int(default)) if default.is_integer() else f"{default:g}"
            shown = shown.lower() if isinstance(default, bool) else shown
            assert f"| `XSELL_{name.upper()}` | `{shown}` |" in CONTRACT or (
                f"| `XSELL_{name.upper()}` | {shown} |" in CONTRACT
            ), name


def test_settings_are_validated() -> None:
    for bad in (
        {"notify_channels": "push,fax"},
        {"notify_caps": "push=1"},
        {"notify_quiet_hours": "22-7"},
        {"notify_timezone": "Mars/Olympus"},
    ):
        with pytest.raises(ValueError):
            load_settings(**bad)
    assert load_settings(notify_channels="").notify.policy.channels == ()
    assert load_settings(notify_default_consent=" push ").notify.default_consent == ("push",)


def test_finished_ids_are_kept_as_long_as_the_setting_says() -> None:
    from xsell.store.notifications.calls import Claimed, NotifyCalls

    settings = load_settings(notify_finished_retention_days=2)
    calls = NotifyCalls("ns", settings.notify.finished_retention_days)
    job = Job("ntf-" + "1" * 32, "u", CART_ABANDONED, {}, 1e9, 1e9, 1e9 + 1)
    claimed = Claimed(job, calls.keys.shard_for("u"), None)
    _, _, args = calls.finish(claimed, "token", 1e9, "sent")
    assert args[4] == 2 * 86400 * 1000  # the finished set's retention, in ms
    assert load_settings().notify.finished_retention_days == 30
