"""The answer of ``GET /v1/items/{item_id}/bundle`` (docs/contract.md, "Bundles"), declared once:
the API uses it as its response model and docs/schemas/bundle.schema.json is generated from it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from xsell.models.messages.outputs import MESSAGE_NOTE, Text


class BundleItem(BaseModel):
    item_id: Text
    name: str | None = Field(description="The catalogue's display name, null when unknown.")
    price: float | None = Field(ge=0, description="The catalogue price, null when unknown.")
    category: str | None = Field(description="The catalogue category, null when unknown.")


class BundlePartner(BaseModel):
    item_id: Text
    together: float = Field(
        ge=0, description="Decayed co-purchase weight with the anchor (~ orders holding both)."
    )
    confidence: float = Field(ge=0, description="together / orders holding the anchor.")


class BundleBecause(BaseModel):
    item_id: Text = Field(description="The anchor item.")
    orders: float = Field(ge=0, description="Decayed order count of the anchor.")
    partners: list[BundlePartner] = Field(min_length=1, max_length=2)
    partners_together: float | None = Field(
        ge=0,
        description="With two partners: their decayed co-purchase weight with each other; "
        "else null.",
    )


class Incentive(BaseModel):
    loyalty_points: int = Field(ge=1)


class BundleAnswer(BaseModel):
    model_config = ConfigDict(
        title="Bundle",
        json_schema_extra={
            "description": "The answer of GET /v1/items/{item_id}/bundle: the anchor and the "
            "1-2 partners most likely to be bought whole with it, priced with the bundle "
            "discount within the margin floor. bundle_id is the same for the same items. "
            + MESSAGE_NOTE,
        },
    )

    bundle_id: str = Field(pattern=r"^bnd-[0-9a-f]{32}$")
    user_id: Text | None = Field(description="The user named by the request, else null.")
    items: list[BundleItem] = Field(
        min_length=2, max_length=3, description="The anchor first, then the partners."
    )
    list_price: float | None = Field(
        ge=0, description="Sum of the items' prices; null when one has no price."
    )
    discount_percent: float = Field(
        ge=0,
        le=90,
        description="XSELL_BUNDLE_DISCOUNT_PERCENT, shrunk where needed to keep "
        "XSELL_BUNDLE_MIN_MARGIN_PERCENT (when every item has a cost).",
    )
    bundle_price: float | None = Field(
        ge=0,
        description="list_price less the discount, rounded up to the cent; null as list_price.",
    )
    because: BundleBecause
    expected_attach: float = Field(
        ge=0,
        le=1,
        description="Estimated share of orders holding the anchor that hold every partner too "
        "(docs/contract.md, Bundles).",
    )
    incentive: Incentive | None = Field(
        None, description="Only with XSELL_BUNDLE_LOYALTY_POINTS > 0."
    )
