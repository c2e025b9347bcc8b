"""Merchant rules (docs/rules.md) as the API, the CLI and the store read them: a rule's
``when`` (which requests it applies to) and ``then`` (what it does to their offers).

Strict by design: an unknown field, an empty list, a window that ends before it starts, a
factor outside (0, 100] or more than 3 pins is refused with the reason (the API's 400), so a
typo never silently becomes a rule that matches everything. The pure application is
:mod:`xsell.models.steering`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from xsell.models.messages.outputs import Offer

MAX_PINS = 3
MAX_LIST = 1000  # items or categories a rule names in one list
RuleText = Annotated[str, Field(min_length=1, max_length=128)]
Daypart = Literal["night", "morning", "afternoon", "evening"]
RequestPlacement = Literal[
    "cart", "checkout", "post_purchase", "product_page", "cart_abandoned", "support"
]
Names = Annotated[list[RuleText], Field(min_length=1, max_length=MAX_LIST)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(Strict):
    """Which requests the rule applies to: every field present must match; absent = any."""

    placements: list[RequestPlacement] | None = Field(None, min_length=1)
    items: Names | None = Field(None, description="Any of these among the trigger and cart items.")
    categories: Names | None = Field(
        None, description="Any of these among the trigger and cart items' categories."
    )
    segments: Names | None = Field(
        None, description="The request's segment is one of these (none given: no match)."
    )
    dayparts: list[Daypart] | None = Field(
        None,
        min_length=1,
        description="UTC hours: night 0-6, morning 6-12, afternoon 12-18, evening 18-24.",
    )
    starts_at: AwareDatetime | None = Field(None, description="Not before (RFC 3339 with zone).")
    ends_at: AwareDatetime | None = Field(None, description="Not after (RFC 3339 with zone).")

    @model_validator(mode="after")
    def _window(self) -> Self:
        starts, ends = rule_time(self.starts_at), rule_time(self.ends_at)
        if starts is not None and ends is not None and ends <= starts:
            raise ValueError("when: ends_at must be after starts_at")
        return self


class Boost(Strict):
    """Multiply the score of an item, or of every item with a tag."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": "Exactly one of tag and item.",
            "oneOf": [
                {
                    "required": ["tag"],
                    "properties": {"tag": {"type": "string"}, "item": {"type": "null"}},
                },
                {
                    "required": ["item"],
                    "properties": {"item": {"type": "string"}, "tag": {"type": "null"}},
                },
            ],
        }
    )

    tag: RuleText | None = None
    item: RuleText | None = None
    factor: float = Field(gt=0, le=100, description="In (0, 100]; below 1 demotes.")

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.tag is None) == (self.item is None):
            raise ValueError("boost: give exactly one of tag or item")
        return self


class Promote(Strict):
    """At least ``slots`` offers carry ``tag`` when an eligible tagged item has co-purchase
    evidence with the trigger (and, with ``min_score_ratio``, that share of the best score)."""

    tag: RuleText
    slots: int = Field(1, ge=1, le=50)
    min_score_ratio: float | None = Field(None, ge=0, le=1)


class Then(Strict):
    """What the rule does to the offers of a request it applies to."""

    pin: list[RuleText] = Field(default_factory=list, max_length=MAX_PINS)
    hide: list[RuleText] = Field(default_factory=list, max_length=MAX_LIST)
    hide_categories: list[RuleText] = Field(default_factory=list, max_length=MAX_LIST)
    boost: list[Boost] = Field(default_factory=list, max_length=100)
    promote: Promote | None = None
    only_categories: Names | None = None
    max_price_ratio: float | None = Field(
        None, gt=0, le=1000, description="Offer price at most this x the highest trigger price."
    )


class Rule(Strict):
    """A merchant rule as written (POST /v1/rules, ``xsell rules add``)."""

    name: str = Field(min_length=1, max_length=200)
    priority: int = Field(0, ge=-1_000_000, le=1_000_000, description="Larger wins a conflict.")
    when: When = Field(default_factory=lambda: When.model_validate({}))
    then: Then


class StoredRule(Rule):
    """A rule with the id the store gave it."""

    rule_id: RuleText


class RuleCreated(BaseModel):
    rule_id: str
    version: int = Field(ge=0, description="The rules' version after the change.")


class RuleList(BaseModel):
    version: int = Field(ge=0, description="Bumped by every change; 0 = never changed.")
    rules: list[StoredRule]


class Preview(Strict):
    """POST /v1/rules/preview: the offers of a request with and without the rules."""

    placement: RequestPlacement = "product_page"
    item_ids: Annotated[list[RuleText], Field(min_length=1, max_length=100)]
    user_id: RuleText | None = None
    segment: RuleText | None = None
    rule: Rule | None = Field(None, description="An unsaved rule, previewed beside the saved.")


class PreviewAnswer(BaseModel):
    version: int = Field(ge=0, description="The saved rules' version the preview used.")
    with_rules: list[Offer]
    without_rules: list[Offer]


def rule_time(value: datetime | None) -> float | None:
    """A window bound as Unix seconds (None: open); a time beyond what a float of seconds
    holds (year 1 with a zone east of UTC) is minus or plus infinity, never an error."""
    if value is None:
        return None
    try:
        return value.timestamp()
    except (OverflowError, OSError, ValueError):
        return -math.inf if value.year < 1970 else math.inf
