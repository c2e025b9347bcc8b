"""The notification message of the contract and the decision entries of ``xsell
notifications`` (docs/contract.md, "Notifications")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from xsell.engine import offer_json
from xsell.models.ranking import Offer
from xsell.models.segments import Segment
from xsell.store import Job


def rfc3339(ts: float) -> str:
    """Epoch seconds as RFC 3339 UTC with milliseconds."""
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def notification_message(
    job: Job,
    channel: str,
    offers: Sequence[Offer],
    now: float,
    variant: str,
    rules_version: int = 0,
    segment: Segment | None = None,
    *,
    recently_viewed: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A value of the notifications topic; ``rules_version``: the merchant rules' version
    its offers were ranked with (docs/rules.md); ``segment``: the user's when ranked;
    ``recently_viewed`` (a cart_abandoned's): the user's recently viewed items not in the cart,
    newest first."""
    message = {
        "notification_id": job.notification_id,
        "user_id": job.user_id,
        "channel": channel,
        "reason": job.reason,
        "items": [offer_json(o) for o in offers],
        "trigger": job.trigger,
        "send_at": rfc3339(job.send_at),
        "expires_at": rfc3339(job.expires_at),
        "created_at": rfc3339(now),
        "variant": variant,
        "rules_version": rules_version,
        "segment": None if segment is None else segment.as_json(),
    }
    if recently_viewed is not None:
        message["recently_viewed"] = list(recently_viewed)
    return message


def as_offer(message: dict[str, Any]) -> dict[str, Any]:
    """A notification in the shape the attribution ledger records (a suggestion's)."""
    return {
        "suggestion_id": message["notification_id"],
        "user_id": message["user_id"],
        "placement": f"notification:{message['reason']}",
        "variant": message["variant"],
        "items": message["items"],
        "segment": message.get("segment"),  # the report's per-segment rows
    }


def decision_entry(
    now: float,
    nid: str,
    reason: str,
    decision: str,
    why: str | None = None,
    *,
    channel: str | None = None,
    until: float | None = None,
    items: Sequence[str] = (),
) -> dict[str, Any]:
    """One decision of a user's log: ``sent`` (channel, items), ``suppressed`` (why) or
    ``deferred`` (why, until when)."""
    entry: dict[str, Any] = {
        "at": rfc3339(now),
        "notification_id": nid,
        "reason": reason,
        "decision": decision,
    }
    if why is not None:
        entry["why"] = why
    if channel is not None:
        entry["channel"] = channel
    if until is not None:
        entry["send_at"] = rfc3339(until)
    if items:
        entry["items"] = list(items)
    return entry
