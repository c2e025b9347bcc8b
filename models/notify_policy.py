"""The notification policy: whom to notify, when, on which channel (pure; docs/contract.md).

Everything here takes the time as an argument (epoch seconds), so the unit tests run it on a
fake clock. The scheduler (xsell/notify/) asks :func:`decide` once a notification is due and
acts on the answer: send it now on a channel, hold it until a time (quiet hours, a full cap),
or drop it with a reason. One policy for every channel, unlike per-channel flows: consent and
caps are per channel, the quiet hours and the expiry are the user's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CHANNELS = ("push", "email", "sms", "zalo")  # the consent keys of the profiles contract
CART_ABANDONED = "cart_abandoned"
POST_PURCHASE = "post_purchase"
REPLENISH = "replenish"  # buy again (optional): the user's due rebuys, looked in on after an order
REASONS = (CART_ABANDONED, POST_PURCHASE, REPLENISH)
MAX_TRIGGER_ITEMS = 1000  # a trigger's item_ids in the contract (models/messages/outputs.py)
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")
_CLOCK = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


@dataclass(frozen=True, slots=True)
class Cap:
    """At most ``count`` notifications per rolling ``seconds`` (per user and channel)."""

    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window of the user's wall clock, in minutes after midnight; ``start > end``
    means it spans midnight (21:00-08:00)."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Policy:
    channels: tuple[str, ...] = CHANNELS  # order of preference
    default_consent: frozenset[str] = frozenset()
    abandon_seconds: float = 3600.0
    post_purchase_seconds: float = 86400.0
    replenish_seconds: float = 7 * 86400.0
    ttl_seconds: float = 86400.0
    quiet: QuietHours | None = QuietHours(21 * 60, 8 * 60)
    timezone: str = "UTC"
    caps: Mapping[str, Cap] = field(default_factory=dict)
    repeat_seconds: float = 30 * 86400.0


@dataclass(frozen=True, slots=True)
class Profile:
    """What the profiles topic said of a user: a time zone and consent per channel."""

    timezone: str | None = None
    consent: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SendDecision:
    """What to do with a due notification: ``send`` on ``channel``; ``defer`` until ``at``
    because of ``why``; ``suppress`` because of ``why``. (Named apart from the worker's
    :class:`xsell.streams.errors.FailureAction`: one meaning per name.)"""

    kind: str  # "send" | "defer" | "suppress"
    why: str | None = None  # quiet_hours, cap, consent, purchased, expired (not_due_yet)
    channel: str | None = None
    at: float | None = None


# --- parsing the settings ----------------------------------------------------------------
def parse_channels(text: str) -> tuple[str, ...]:
    """``push,email`` -> ('push', 'email'); empty = notifications off. Unknown or repeated
    channels are errors: a typo would silently never send."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    bad = [n for n in names if n not in CHANNELS]
    if bad:
        raise ValueError(f"unknown channel(s) {bad}; known: {','.join(CHANNELS)}")
    if len(set(names)) != len(names):
        raise ValueError("a channel is listed twice")
    return names


def parse_caps(text: str) -> dict[str, Cap]:
    """``push=1/86400,email=1/57600`` -> {channel: Cap}; a channel not listed has no cap."""
    caps: dict[str, Cap] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, rule = part.partition("=")
        count, slash, seconds = rule.partition("/")
        name = name.strip()
        if not sep or not slash or name not in CHANNELS:
            raise ValueError(f"cap {part!r}: expected CHANNEL=N/SECONDS with a known channel")
        try:
            cap = Cap(int(count), float(seconds))
        except ValueError:
            raise ValueError(f"cap {part!r}: N and SECONDS must be numbers") from None
        if cap.count < 1 or not 0 < cap.seconds <= 366 * 86400:
            raise ValueError(f"cap {part!r}: N >= 1 and 0 < SECONDS <= 366 days")
        caps[name] = cap
    return caps


def parse_quiet_hours(text: str) -> QuietHours | None:
    """``21:00-08:00`` -> QuietHours; empty -> None (no quiet hours)."""
    if not text.strip():
        return None
    start, sep, end = text.strip().partition("-")
    a, b = _CLOCK.match(start.strip()), _CLOCK.match(end.strip())
    if not sep or a is None or b is None:
        raise ValueError(f"quiet hours {text!r}: expected HH:MM-HH:MM")
    window = QuietHours(int(a[1]) * 60 + int(a[2]), int(b[1]) * 60 + int(b[2]))
    if window.start == window.end:
        raise ValueError("quiet hours: start and end are the same time")
    return window


def zone(name: str) -> ZoneInfo | None:
    """The IANA zone of that name, or None when there is none (a typo, a path)."""
    if not _ZONE_NAME.match(name) or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


# --- identity and timing -----------------------------------------------------------------
def notification_id(reason: str, stream: str, event_id: str) -> str:
    """Derived from the reason and the trigger, so a redelivered trigger never makes a
    second, different notification (and a sender may dedupe on it)."""
    digest = hashlib.sha256(f"{reason}\x00{stream}\x00{event_id}".encode()).hexdigest()
    return "ntf-" + digest[:32]


def due_at(reason: str, trigger_ts: float, policy: Policy) -> float:
    """When a trigger's notification is due: after the abandonment delay since the cart's
    last activity, or after the post-purchase (replenishment) delay since the order (event
    times, so a worker that lags still schedules for the right moment)."""
    if reason == REPLENISH:
        return trigger_ts + policy.replenish_seconds
    delay = policy.abandon_seconds if reason == CART_ABANDONED else policy.post_purchase_seconds
    return trigger_ts + delay


def expires_at(due: float, policy: Policy) -> float:
    """After this, a notification that could not go out is dropped: a reminder about a cart
    from last week is noise."""
    return due + policy.ttl_seconds


def stale_on_arrival(expiry: float, now: float) -> bool:
    """A trigger processed after its notification would already have expired (replayed
    history, a long outage): schedule nothing, so replaying history sends nothing."""
    return expiry <= now


# --- the checks at send time ---------------------------------------------------------------
def consented(policy: Policy, profile: Profile) -> list[str]:
    """The channels the user consented to, in preference order. An explicit answer of the
    profile wins; else the company default (empty by default: no channel without explicit
    consent, as Decree 13/2023 and the GDPR require)."""
    return [
        c for c in policy.channels if profile.consent.get(c, c in policy.default_consent) is True
    ]


def cap_frees_at(cap: Cap | None, sent: Sequence[float], now: float) -> float | None:
    """None when one more may go out now on a channel with these send times; else the time
    when the rolling window frees a slot (the oldest send that fills the cap leaves it)."""
    if cap is None:
        return None
    recent = sorted(t for t in sent if now - cap.seconds < t <= now)
    if len(recent) < cap.count:
        return None
    return recent[len(recent) - cap.count] + cap.seconds


def choose_channel(
    policy: Policy, channels: Sequence[str], sent: Mapping[str, Sequence[float]], now: float
) -> tuple[str | None, float | None]:
    """(the first of ``channels`` not capped, None), or (None, the earliest time one of them
    frees): over cap on the preferred channel, a message goes on the next one rather than
    waiting; only when every consented channel is full does it wait."""
    frees: list[float] = []
    for channel in channels:
        at = cap_frees_at(policy.caps.get(channel), sent.get(channel, ()), now)
        if at is None:
            return channel, None
        frees.append(at)
    return None, min(frees) if frees else None


def user_zone(policy: Policy, profile: Profile) -> ZoneInfo:
    """The user's zone; the company's (XSELL_NOTIFY_TIMEZONE) when the user gave none."""
    mine = zone(profile.timezone) if profile.timezone else None
    return mine or zone(policy.timezone) or ZoneInfo("UTC")


def first_instant_at(day: datetime, minutes: int, tz: ZoneInfo) -> float:
    """The first instant of ``day`` whose wall clock in ``tz`` reads ``minutes`` after
    midnight or later. Why not simply the local time: on a spring-forward day that time may
    not exist (02:30 in a 02:00 -> 03:00 gap); then the window ends at the jump (03:00). On a
    fall-back day an ambiguous time means its first occurrence."""
    wall = datetime.combine(day.date(), time(minutes // 60, minutes % 60))
    first = wall.replace(tzinfo=tz, fold=0).timestamp()
    if datetime.fromtimestamp(first, tz).replace(tzinfo=None) == wall:
        return min(first, wall.replace(tzinfo=tz, fold=1).timestamp())
    lo, hi = sorted((first, wall.replace(tzinfo=tz, fold=1).timestamp()))
    while hi - lo > 0.5:  # in the gap: the jump is between the two readings
        mid = (lo + hi) / 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return float(round(hi))


def quiet_until(quiet: QuietHours | None, tz: ZoneInfo, now: float) -> float | None:
    """None when ``now`` is outside the quiet hours on the user's wall clock; else when they
    end (so the message is held until then, not dropped)."""
    if quiet is None:
        return None
    local = datetime.fromtimestamp(now, tz)
    minute = local.hour * 60 + local.minute
    if quiet.start < quiet.end:
        inside, end_day = quiet.start <= minute < quiet.end, local
    else:  # across midnight: the evening part ends tomorrow, the morning part today
        inside = minute >= quiet.start or minute < quiet.end
        end_day = local + timedelta(days=1) if minute >= quiet.start else local
    if not inside:
        return None
    end = first_instant_at(end_day, quiet.end, tz)
    return end if end > now else None


def purchased_since(purchases: Mapping[str, float], since: float) -> bool:
    """True when the user bought anything after ``since`` (the cart's last activity): the
    abandoned cart was not abandoned, whatever the order held."""
    return any(ts > since for ts in purchases.values())


def window_items(
    trigger_items: Sequence[str],
    purchases: Mapping[str, float],
    since: float,
    limit: int = MAX_TRIGGER_ITEMS,
) -> list[str]:
    """The items of a post-purchase notification, oldest first: its trigger order's, then
    every item bought since (``purchases``: item -> last bought at). Why: a user who orders
    again while one is pending gets one notification for all the orders, not one per order
    (the later orders joined the pending one), so its content is computed when it is sent."""
    later = sorted((ts, item) for item, ts in purchases.items() if ts >= since)
    return list(dict.fromkeys([*trigger_items, *(item for _, item in later)]))[-limit:]


def recently_notified(repeats: Mapping[str, float], now: float, repeat_seconds: float) -> set[str]:
    """Items notified to the user within the repeat window: not offered again."""
    return {item for item, ts in repeats.items() if now - ts < repeat_seconds}


def decide(
    reason: str,
    trigger_ts: float,
    expiry: float,
    profile: Profile,
    sent: Mapping[str, Sequence[float]],
    purchases: Mapping[str, float],
    now: float,
    policy: Policy,
) -> SendDecision:
    """What to do with a due notification now, in the order a person would check: too late,
    no longer wanted (bought since), not allowed (consent), not now (quiet hours, caps). The
    content (nothing left to offer = ``empty``) is checked after, by the ranker."""
    if now >= expiry:
        return SendDecision("suppress", "expired")
    if reason == CART_ABANDONED and purchased_since(purchases, trigger_ts):
        return SendDecision("suppress", "purchased")
    channels = consented(policy, profile)
    if not channels:
        return SendDecision("suppress", "consent")
    until = quiet_until(policy.quiet, user_zone(policy, profile), now)
    if until is not None:
        if until >= expiry:
            return SendDecision("suppress", "expired")
        return SendDecision("defer", "quiet_hours", at=until)
    channel, frees = choose_channel(policy, channels, sent, now)
    if channel is not None:
        return SendDecision("send", channel=channel)
    if frees is None or frees >= expiry:
        return SendDecision("suppress", "cap")
    return SendDecision("defer", "cap", at=frees)
