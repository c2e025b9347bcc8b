"""The notification policy on a fake clock: quiet hours across midnight, time zones and DST,
rolling caps, consent, repeats, expiry (models/notify_policy.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from xsell.models.notify_policy import (
    CART_ABANDONED,
    POST_PURCHASE,
    Cap,
    Policy,
    Profile,
    QuietHours,
    SendDecision,
    cap_frees_at,
    choose_channel,
    consented,
    decide,
    due_at,
    expires_at,
    notification_id,
    parse_caps,
    parse_channels,
    parse_quiet_hours,
    quiet_until,
    recently_notified,
    stale_on_arrival,
    user_zone,
    window_items,
    zone,
)

NY = zone("America/New_York")
HCM = zone("Asia/Ho_Chi_Minh")
assert NY is not None and HCM is not None
NIGHT = QuietHours(21 * 60, 8 * 60)
PUSH = Profile(consent={"push": True})


def at(tz: object, *parts: int, fold: int = 0) -> float:
    return datetime(*parts, tzinfo=tz, fold=fold).timestamp()  # type: ignore[arg-type, misc]


def wall(ts: float, tz: object) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M %z")  # type: ignore[arg-type]


# --- settings -------------------------------------------------------------------------------
def test_parse_settings() -> None:
    assert parse_channels("push, email") == ("push", "email")
    assert parse_channels("") == ()
    assert parse_caps("push=1/86400,email=2/57600") == {
        "push": Cap(1, 86400.0),
        "email": Cap(2, 57600.0),
    }
    assert parse_caps("") == {}
    assert parse_quiet_hours("21:00-08:00") == NIGHT
    assert parse_quiet_hours("") is None
    for bad in ("fax", "push,push"):
        with pytest.raises(ValueError):
            parse_channels(bad)
    for bad in ("push=1", "fax=1/60", "push=0/60", "push=a/60", "push=1/0"):
        with pytest.raises(ValueError):
            parse_caps(bad)
    for bad in ("21:00", "25:00-08:00", "08:00-08:00", "9-10"):
        with pytest.raises(ValueError):
            parse_quiet_hours(bad)


def test_zones_are_iana_names_only() -> None:
    assert zone("Europe/Berlin") is not None
    for bad in ("Mars/Olympus", "../../etc/passwd", "/etc/localtime", "", "a" * 80):
        assert zone(bad) is None
    policy = Policy(timezone="Asia/Ho_Chi_Minh")
    assert user_zone(policy, Profile()) == HCM
    assert user_zone(policy, Profile(timezone="America/New_York")) == NY
    assert user_zone(policy, Profile(timezone="Nowhere/Land")) == HCM


# --- quiet hours ----------------------------------------------------------------------------
def test_quiet_hours_across_midnight() -> None:
    evening = at(NY, 2024, 6, 3, 22, 15)
    assert wall(quiet_until(NIGHT, NY, evening) or 0, NY) == "2024-06-04 08:00 -0400"
    morning = at(NY, 2024, 6, 4, 6, 0)
    assert wall(quiet_until(NIGHT, NY, morning) or 0, NY) == "2024-06-04 08:00 -0400"
    assert quiet_until(NIGHT, NY, at(NY, 2024, 6, 4, 8, 0)) is None
    assert quiet_until(NIGHT, NY, at(NY, 2024, 6, 4, 20, 59)) is None
    assert quiet_until(None, NY, evening) is None


def test_quiet_hours_within_a_day() -> None:
    lunch = QuietHours(12 * 60, 13 * 60 + 30)
    assert wall(quiet_until(lunch, NY, at(NY, 2024, 6, 4, 12, 5)) or 0, NY).endswith("13:30 -0400")
    assert quiet_until(lunch, NY, at(NY, 2024, 6, 4, 13, 30)) is None


def test_quiet_hours_are_the_users_wall_clock() -> None:
    now = at(HCM, 2024, 6, 4, 23, 0)  # 23:00 in Vietnam is 12:00 in New York
    assert quiet_until(NIGHT, HCM, now) is not None
    assert quiet_until(NIGHT, NY, now) is None


def test_quiet_hours_over_the_dst_changes() -> None:
    # the night of 9-10 March 2024 in New York is 10 h long, not 11: ends at 08:00 EDT
    spring = at(NY, 2024, 3, 9, 22, 0)
    end = quiet_until(NIGHT, NY, spring) or 0
    assert wall(end, NY) == "2024-03-10 08:00 -0400"
    assert end - spring == 9 * 3600
    # the night of 2-3 November is 12 h long: ends at 08:00 EST
    autumn = at(NY, 2024, 11, 2, 22, 0)
    end = quiet_until(NIGHT, NY, autumn) or 0
    assert wall(end, NY) == "2024-11-03 08:00 -0500" and end - autumn == 11 * 3600
    # a window that ends inside the spring-forward gap ends at the jump
    gap = QuietHours(60, 150)  # 01:00-02:30; 02:00-03:00 does not exist that night
    assert wall(quiet_until(gap, NY, at(NY, 2024, 3, 10, 1, 30)) or 0, NY) == (
        "2024-03-10 03:00 -0400"
    )
    # an ambiguous end (01:30 happens twice on 3 November) is its first occurrence
    twice = QuietHours(60, 90)
    end = quiet_until(twice, NY, at(NY, 2024, 11, 3, 1, 10))
    assert end == at(NY, 2024, 11, 3, 1, 30, fold=0)


# --- caps and channels ----------------------------------------------------------------------
def test_rolling_cap() -> None:
    cap = Cap(2, 3600)
    now = 10_000.0
    assert cap_frees_at(cap, [], now) is None
    assert cap_frees_at(cap, [now - 100], now) is None
    assert cap_frees_at(cap, [now - 100, now - 50], now) == now - 100 + 3600
    assert cap_frees_at(cap, [now - 4000, now - 50], now) is None  # rolled out of the window
    assert cap_frees_at(None, [now] * 9, now) is None


def test_channel_choice_prefers_and_falls_through() -> None:
    policy = Policy(caps={"push": Cap(1, 86400), "email": Cap(1, 57600)})
    now = 1e6
    assert choose_channel(policy, ["push", "email"], {}, now) == ("push", None)
    sent = {"push": [now - 10]}
    assert choose_channel(policy, ["push", "email"], sent, now) == ("email", None)
    both = {"push": [now - 10], "email": [now - 20]}
    assert choose_channel(policy, ["push", "email"], both, now) == (None, now - 20 + 57600)
    assert choose_channel(policy, [], {}, now) == (None, None)


def test_consent_is_explicit_by_default() -> None:
    policy = Policy(channels=("push", "email", "sms"))
    assert consented(policy, Profile()) == []
    assert consented(policy, Profile(consent={"sms": True, "push": True})) == ["push", "sms"]
    assert consented(policy, Profile(consent={"push": False})) == []
    lax = Policy(channels=("push", "email"), default_consent=frozenset({"email"}))
    assert consented(lax, Profile()) == ["email"]
    assert consented(lax, Profile(consent={"email": False})) == []
    assert consented(Policy(channels=("email",)), PUSH) == []  # push is not a channel here


# --- the decision ---------------------------------------------------------------------------
def test_decide_in_order() -> None:
    policy = Policy(quiet=None, caps={"push": Cap(1, 3600)})
    now = 1e6
    exp = now + 7200

    def dec(**kw: object) -> SendDecision:
        args: dict[str, object] = {
            "reason": CART_ABANDONED,
            "trigger_ts": now - 3600,
            "expiry": exp,
            "profile": PUSH,
            "sent": {},
            "purchases": {},
            "now": now,
            "policy": policy,
        }
        args.update(kw)
        return decide(**args)  # type: ignore[arg-type]

    assert dec() == SendDecision("send", channel="push")
    assert dec(now=exp) == SendDecision("suppress", "expired")
    assert dec(purchases={"a": now - 10}) == SendDecision("suppress", "purchased")
    assert dec(purchases={"a": now - 7200}) == SendDecision("send", channel="push")
    assert dec(reason=POST_PURCHASE, purchases={"a": now - 10}).kind == "send"
    assert dec(profile=Profile()) == SendDecision("suppress", "consent")
    assert dec(sent={"push": [now - 600]}) == SendDecision("defer", "cap", at=now - 600 + 3600)
    assert dec(sent={"push": [now - 600]}, expiry=now + 100) == SendDecision("suppress", "cap")


def test_decide_quiet_hours_defer_then_send() -> None:
    policy = Policy(quiet=NIGHT, timezone="America/New_York")
    now = at(NY, 2024, 6, 3, 23, 0)
    d = decide(CART_ABANDONED, now - 3600, now + 86400, PUSH, {}, {}, now, policy)
    assert d.kind == "defer" and d.why == "quiet_hours"
    assert wall(d.at or 0, NY) == "2024-06-04 08:00 -0400"
    later = decide(CART_ABANDONED, now - 3600, now + 86400, PUSH, {}, {}, d.at or 0, policy)
    assert later == SendDecision("send", channel="push")
    # the user's own zone wins: 23:00 New York is 10:00 in Ho Chi Minh City
    vn = Profile(timezone="Asia/Ho_Chi_Minh", consent={"push": True})
    assert decide(CART_ABANDONED, now - 3600, now + 86400, vn, {}, {}, now, policy).kind == "send"
    # held past its expiry: dropped
    short = decide(CART_ABANDONED, now - 3600, now + 3600, PUSH, {}, {}, now, policy)
    assert short == SendDecision("suppress", "expired")


# --- ids, timing, repeats ---------------------------------------------------------------------
def test_ids_and_times() -> None:
    a = notification_id(CART_ABANDONED, "c", "e1")
    assert a == notification_id(CART_ABANDONED, "c", "e1") and a.startswith("ntf-")
    assert len(a) == 36
    assert a != notification_id(POST_PURCHASE, "c", "e1")
    assert a != notification_id(CART_ABANDONED, "c", "e2")
    policy = Policy(abandon_seconds=60, post_purchase_seconds=600, ttl_seconds=100)
    assert due_at(CART_ABANDONED, 1000, policy) == 1060
    assert due_at(POST_PURCHASE, 1000, policy) == 1600
    assert expires_at(1600, policy) == 1700
    assert stale_on_arrival(1700, 1700) and not stale_on_arrival(1700, 1699)


def test_repeat_window() -> None:
    now = 100 * 86400.0
    repeats = {"a": now - 86400, "b": now - 31 * 86400, "c": now}
    assert recently_notified(repeats, now, 30 * 86400) == {"a", "c"}
    assert recently_notified(repeats, now, 0) == set()


def test_a_post_purchase_covers_every_order_since_its_trigger() -> None:
    bought = {"old": 50.0, "phone": 100.0, "case": 101.0, "cable": 102.0, "case2": 101.5}
    assert window_items(["phone"], bought, 100.0) == ["phone", "case", "case2", "cable"]
    assert window_items(["phone", "x"], {}, 100.0) == ["phone", "x"]  # no history: the order
    assert window_items(["phone"], bought, 100.0, limit=2) == ["case2", "cable"]  # the newest
