"""``xsell eval --bundles``' pure parts: the anchors' bundles and the attach counts."""

from __future__ import annotations

from xsell.config.settings import load_settings
from xsell.evaluation.bundle_methods import Attach, Chosen, add_triples, anchor_bundles, score
from xsell.models.bundles import BundleEvidence
from xsell.models.events import OrderLine, PurchaseEvent

EV = BundleEvidence(
    anchor="A",
    n_anchor=100.0,
    together={"b": 50.0, "c": 40.0, "d": 10.0, "e": 1.0},
    counts={"b": 500.0, "c": 80.0, "d": 10.0, "e": 1.0},
    pairs={},
    total=1000.0,
)


def test_the_anchors_pick_by_confidence_lift_and_category() -> None:
    cats = {"b": "x", "c": "x", "d": "y", "e": "z"}
    got = anchor_bundles(EV, ["b", "c", "d", "e"], cats, 2.0)
    assert got["fbt"] == ["b", "c"]
    assert got["lift"] == ["d", "c"]  # lift 10 and 5; e lacks the support
    assert got["categories"] == ["b", "d"]  # c shares b's category
    # no categories: as fbt
    assert anchor_bundles(EV, ["b", "c", "d"], {}, 2.0)["categories"] == ["b", "c"]


def _order(n: int, items: list[str]) -> PurchaseEvent:
    return PurchaseEvent(f"e{n}", f"o{n}", None, float(n), tuple(OrderLine(i) for i in items))


def test_attach_counts_full_partial_and_revenue_per_bundle_shown() -> None:
    chosen = {
        "A": Chosen(["b", "d"], {"fbt": ["b", "c"]}, {"xsell": 90.0, "fbt": 80.0}, True),
        "P": Chosen(["q"], {"fbt": ["q", "r"]}, {"xsell": 10.0, "fbt": 12.0}, False),
    }
    counts = score(
        [_order(0, ["A", "b", "d"]), _order(1, ["A", "b", "c"]), _order(2, ["A", "P", "q"])],
        chosen,
    )
    assert counts["xsell"].result() == {
        "shown": 3,
        "full_attach": round(1 / 3, 5),
        "partial_attach": round(1 / 3, 5),
        "revenue_per_bundle": 30.0,
    }
    assert (counts["fbt"].full, counts["fbt"].partial) == (1, 1)
    assert counts["xsell"].spanning == 3
    assert (counts["pairs"].shown, counts["pairs"].full) == (1, 1)  # P's bundle of 2
    assert Attach().result()["full_attach"] == 0.0


def test_the_triples_reference_takes_the_pair_most_orders_hold_with_the_anchor() -> None:
    chosen = {"A": Chosen(["b", "c"], {}, {}, False, ["b", "c", "d"], {})}
    train = [_order(0, ["A", "b", "d"]), _order(1, ["A", "b", "d", "c"]), _order(2, ["A", "b"])]
    train += [_order(3, ["b", "c"])] * 5  # without the anchor: no evidence of the triple
    add_triples(chosen, train, load_settings())
    assert chosen["A"].anchors["triples"] == ["b", "d"]
    assert chosen["A"].prices["triples"] is None  # no prices known
