"""Bundles' pure parts (models/bundles.py): the joint estimator, the choice of items, the id,
the discount within the margin floor."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.unit.schema_cases import schema
from xsell.config.settings import load_settings
from xsell.engine.bundles import bundle_answer, choose_from
from xsell.models.bundles import (
    BundleData,
    BundleEvidence,
    bundle_id,
    bundle_pricing,
    choose_bundle,
    eligible_partners,
    evidence_of,
    joint_confidence,
    max_discount_percent,
)
from xsell.models.errors import InvalidEvent
from xsell.models.events import CatalogItem, Limits, PurchaseEvent
from xsell.models.messages.inputs import OrderEventMessage
from xsell.models.rules import RuleParams
from xsell.models.validate import parse_record

LIMITS = Limits()


def _ev(together: dict[str, float], pairs: dict[tuple[str, str], float], n_a: float = 100.0):
    counts = {b: 200.0 for b in together}
    return BundleEvidence(
        anchor="A",
        n_anchor=n_a,
        together=together,
        counts=counts,
        pairs={frozenset(k): v for k, v in pairs.items()},
        total=1000.0,
    )


def test_joint_confidence_is_kirkwood_clipped_to_the_counts() -> None:
    # independent partners (lift 1): c1 * c2
    assert joint_confidence(0.5, 0.4, 40.0, 200.0, 200.0, 100.0, 1000.0) == pytest.approx(0.2)
    # complements (lift 5) would give 1.0: clipped to min(c1, c2, C12 / n_a)
    assert joint_confidence(0.5, 0.4, 200.0, 200.0, 200.0, 100.0, 1000.0) == pytest.approx(0.4)
    # C12 / n_a bounds it: 30 orders of b1-b2 at most, of 100 with the anchor
    assert joint_confidence(0.9, 0.9, 30.0, 30.0, 30.0, 100.0, 1000.0) == pytest.approx(0.3)
    # Frechet's lower bound: c1 + c2 - 1
    assert joint_confidence(0.9, 0.8, 80.0, 900.0, 800.0, 100.0, 1000.0) == pytest.approx(0.7)
    # counts that contradict each other (a pruned pair): the proven upper bound wins
    assert joint_confidence(0.9, 0.8, 1.0, 900.0, 800.0, 100.0, 1000.0) == pytest.approx(0.01)
    assert joint_confidence(0.5, 0.4, 0.0, 200.0, 200.0, 100.0, 1000.0) == 0.0


def test_the_bundle_is_chosen_for_the_whole_not_the_top_two_confidences() -> None:
    # b and c have the best confidences with A but are substitutes (rarely bought together);
    # d sells a bit less with A but goes with b: A + b + d is bought whole more often.
    ev = _ev(
        {"b": 50.0, "c": 48.0, "d": 30.0},
        {("b", "c"): 2.0, ("b", "d"): 60.0, ("c", "d"): 10.0},
    )
    got = choose_bundle(ev, ["b", "c", "d"], {}, 3, 2.0)
    assert got is not None
    assert got.items == ("A", "b", "d")
    assert got.expected_attach == pytest.approx(
        joint_confidence(0.5, 0.3, 60.0, 200.0, 200.0, 100.0, 1000.0)
    )
    assert got.partners_together == 60.0
    assert got.confidence == (0.5, 0.3)


def test_partners_of_different_categories_come_first_when_possible() -> None:
    ev = _ev({"b": 50.0, "c": 40.0, "d": 30.0}, {("b", "c"): 60.0, ("b", "d"): 20.0})
    cats = {"b": "case", "c": "case", "d": "cable"}
    got = choose_bundle(ev, ["b", "c", "d"], cats, 3, 2.0)
    assert got is not None and got.partners == ("b", "d")
    # without categories the stronger pair wins
    got = choose_bundle(ev, ["b", "c", "d"], {}, 3, 2.0)
    assert got is not None and got.partners == ("b", "c")


def test_two_items_only_without_evidence_of_a_pair_and_none_without_any() -> None:
    ev = _ev({"b": 50.0, "c": 40.0}, {("b", "c"): 1.0})
    got = choose_bundle(ev, ["b", "c"], {}, 3, 2.0)
    assert got is not None and got.items == ("A", "b") and got.partners_together is None
    assert got.expected_attach == pytest.approx(0.5)
    sized_two = choose_bundle(_ev({"b": 50.0, "c": 40.0}, {("b", "c"): 40.0}), ["b", "c"], {}, 2, 2)
    assert sized_two is not None and sized_two.items == ("A", "b")
    assert choose_bundle(_ev({"b": 1.0}, {}), ["b"], {}, 3, 2.0) is None
    assert choose_bundle(_ev({"b": 50.0}, {}), [], {}, 3, 2.0) is None


def _data(**kw: object) -> BundleData:
    base: dict[str, object] = {
        "anchor": "A",
        "anchor_count": 100.0,
        "anchor_landmark": 0.0,
        "partners": [("b", 50.0), ("c", 40.0), ("d", 30.0), ("e", 20.0)],
        "partner_counts": {"b": 200.0, "c": 200.0, "d": 200.0, "e": 200.0},
        "partner_landmarks": {"b": 0.0, "c": 0.0, "d": 0.0, "e": 0.0},
        "pair_raw": {("b", "c"): 30.0, ("c", "b"): 28.0, ("d", "e"): 5.0},
        "total": 1000.0,
        "landmark": 0.0,
        "now": 86400.0,
        "catalog": {
            "A": CatalogItem("A", category="phone"),
            "b": CatalogItem("b", category="case", stock=0),
            "c": CatalogItem("c", category="phone"),
            "d": CatalogItem("d", category="cable", active=False),
        },
        "history": {"e": 10.0},
    }
    base.update(kw)
    return BundleData(**base)  # type: ignore[arg-type]


def test_eligible_partners_drop_unavailable_owned_same_category_and_hidden() -> None:
    data = _data(partners=[("b", 5.0), ("c", 4.0), ("d", 3.0), ("e", 2.0), ("f", 1.0)])
    assert eligible_partners(data, RuleParams()) == ["f"]
    assert eligible_partners(data, RuleParams(exclude_purchased=False)) == ["e", "f"]

    def hide_f(anchor: str, cands: object, catalog: object) -> list[str]:
        return [c for c in cands if c != "f"]  # type: ignore[attr-defined]

    assert eligible_partners(data, RuleParams(), hide_f) == []


def test_evidence_is_decayed_and_a_pair_pruned_on_one_side_still_counts() -> None:
    day = 86400.0
    ev = evidence_of(_data(), half_life=day)
    assert ev.n_anchor == pytest.approx(50.0) and ev.total == pytest.approx(500.0)
    assert ev.together["b"] == pytest.approx(25.0)
    assert ev.pairs[frozenset(("b", "c"))] == pytest.approx(15.0)  # the larger side
    assert ev.pairs[frozenset(("d", "e"))] == pytest.approx(2.5)
    assert evidence_of(_data(), half_life=0.0).n_anchor == 100.0


def test_bundle_id_is_stable_for_the_same_items_and_distinct_otherwise() -> None:
    assert bundle_id(["A", "b", "c"]) == bundle_id(["c", "A", "b"])
    assert bundle_id(["A", "b", "c"]) != bundle_id(["A", "b", "d"])
    assert bundle_id(["A", "b"]).startswith("bnd-") and len(bundle_id(["A"])) == 36


def test_pricing_applies_the_discount_without_costs() -> None:
    p = bundle_pricing([10.0, 5.0, 5.0], [None, 1.0, 1.0], 10.0, 15.0)
    assert (p.list_price, p.discount_percent, p.bundle_price) == (20.0, 10.0, 18.0)


def test_pricing_shrinks_the_discount_to_keep_the_margin_floor() -> None:
    # cost 16 of 20: price >= 16 / 0.85 = 18.8235... -> discount <= 5.88 %
    p = bundle_pricing([10.0, 5.0, 5.0], [8.0, 4.0, 4.0], 10.0, 15.0)
    assert p.discount_percent == pytest.approx(5.88)
    assert p.bundle_price is not None
    assert (p.bundle_price - 16.0) / p.bundle_price >= 0.15
    # cost above the floor already at list price: no discount at all
    p = bundle_pricing([10.0, 10.0], [9.0, 9.0], 10.0, 15.0)
    assert (p.discount_percent, p.bundle_price) == (0.0, 20.0)
    # plenty of margin: the full discount
    assert bundle_pricing([10.0, 10.0], [1.0, 1.0], 10.0, 15.0).discount_percent == 10.0


@pytest.mark.parametrize("cost", [0.0, 5.0, 11.0, 13.3, 16.99, 17.0])
def test_rounding_never_breaks_the_margin_floor(cost: float) -> None:
    p = bundle_pricing([9.99, 7.01, 3.33], [cost / 2, cost / 2, 0.0], 12.5, 15.0)
    assert p.bundle_price is not None and p.bundle_price > 0
    assert (p.bundle_price - cost) / p.bundle_price >= 0.15 - 1e-9 or p.discount_percent == 0.0


def test_pricing_without_every_price_has_no_prices() -> None:
    p = bundle_pricing([10.0, None], [1.0, 1.0], 10.0, 15.0)
    assert (p.list_price, p.bundle_price, p.discount_percent) == (None, None, 10.0)
    assert max_discount_percent(0.0, 1.0, 15.0) == 0.0


def test_the_answer_of_a_chosen_bundle_is_valid_for_its_schema() -> None:
    settings = load_settings(bundle_loyalty_points=7, bundle_min_support=2.0)
    data = _data(
        catalog={
            "A": CatalogItem("A", category="phone", price=100.0, cost=50.0, name="Phone"),
            "b": CatalogItem("b", category="case", price=10.0, cost=2.0),
            "c": CatalogItem("c", category="cable", price=5.0, cost=1.0),
        },
        history={},
    )
    chosen = choose_from(data, settings, 3, RuleParams())
    assert chosen is not None and chosen.items == ("A", "b", "c")
    answer = bundle_answer(chosen, data, None, settings)
    jsonschema.Draft202012Validator(schema("bundle")).validate(answer)
    assert answer["incentive"] == {"loyalty_points": 7}
    assert (answer["list_price"], answer["bundle_price"]) == (115.0, 103.5)
    without = bundle_answer(chosen, data, "u1", load_settings())
    assert "incentive" not in without and without["user_id"] == "u1"


def _order(line: dict[str, object]) -> dict[str, object]:
    return {"event_id": "e", "type": "purchase", "order_id": "o", "ts": 1, "items": [line]}


def test_order_lines_may_carry_the_bundle_they_were_bought_in() -> None:
    bid = bundle_id(["A", "b", "c"])
    event = parse_record("orders", json.dumps(_order({"item_id": "b", "bundle_id": bid})), LIMITS)
    assert isinstance(event, PurchaseEvent) and event.items[0].bundle_id == bid
    model = OrderEventMessage.model_validate(_order({"item_id": "b", "bundle_id": bid}))
    assert model.to_event().items[0].bundle_id == bid  # type: ignore[union-attr]
    plain = parse_record("orders", json.dumps(_order({"item_id": "b"})), LIMITS)
    assert isinstance(plain, PurchaseEvent) and plain.items[0].bundle_id is None
    with pytest.raises(InvalidEvent, match=r"items\[0\]\.bundle_id"):
        parse_record("orders", json.dumps(_order({"item_id": "b", "bundle_id": ""})), LIMITS)
    jsonschema.Draft202012Validator(schema("order-event")).validate(
        _order({"item_id": "b", "bundle_id": bid})
    )


def test_the_lift_prior_pulls_thin_evidence_toward_the_top_confidences() -> None:
    # b, c: the anchor's strongest partners, independent of each other (lift 1);
    # d, e: rarer, nearly always bought together (raw lift 245 on 30 orders)
    ev = BundleEvidence(
        anchor="A",
        n_anchor=100.0,
        together={"b": 50.0, "c": 40.0, "d": 30.0, "e": 30.0},
        counts={"b": 2000.0, "c": 2000.0, "d": 35.0, "e": 35.0},
        pairs={frozenset(("b", "c")): 400.0, frozenset(("d", "e")): 30.0},
        total=10000.0,
    )
    raw = choose_bundle(ev, ["b", "c", "d", "e"], {}, 3, 2.0)
    assert raw is not None and raw.partners == ("d", "e") and raw.expected_attach == 0.3
    shrunk = choose_bundle(ev, ["b", "c", "d", "e"], {}, 3, 2.0, lift_prior=100.0)
    assert shrunk is not None and shrunk.partners == ("b", "c")
    assert shrunk.expected_attach == pytest.approx(0.2)  # lift (400 + 100) / (400 + 100) = 1
    assert joint_confidence(0.3, 0.3, 30.0, 35.0, 35.0, 100.0, 1e4, 100.0) == pytest.approx(
        0.09 * 130.0 / (0.1225 + 100.0)
    )
