"""Co-view partners on the product page (models/coview.py): co-purchase evidence first, then
co-view partners, then what weaker evidence brings; the usual rules; the label; views as
events (parsing, routes)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.test_ranking import NOW, ids, make_input, params
from xsell.api.event_routes import public_refusal, route_of
from xsell.engine.messages import offer_json
from xsell.models.coview import co_viewed_of, product_page_items, ranked, with_co_views
from xsell.models.errors import InvalidEvent
from xsell.models.events import CartEvent, CatalogItem, Limits, is_view
from xsell.models.ranking import Because, Neighbours, RankRequest, rank
from xsell.models.rules import RuleParams
from xsell.models.validate import parse_record

POPULAR = [("p1", 50.0), ("p2", 40.0), ("p3", 30.0)]
CO = co_viewed_of("a", [("v1", 7.0), ("v2", 3.0), ("a", 2.0), ("v3", 1.0)], frozenset({"a"}))


def test_an_item_without_purchases_offers_its_co_view_partners_before_popular_items() -> None:
    inp = replace(make_input(popular=POPULAR), co_viewed=CO)
    p = params(popular_fallback=True)
    assert ids(rank(inp, p)) == ["p1", "p2", "p3"]  # what it was: best sellers
    offers = ranked(inp, p)
    assert ids(offers) == ["v1", "v2", "v3"]
    assert offers[0].kind == "cross_sell"
    assert offers[0].because == Because("a", 0.0, 0.0, co_viewed=7.0)
    assert offer_json(offers[1])["because"] == {
        "item_id": "a",
        "together": 0.0,
        "confidence": 0.0,
        "co_viewed": 3.0,
    }
    assert ids(ranked(inp, params(popular_fallback=True, k=5))) == ["v1", "v2", "v3", "p1", "p2"]


def test_co_purchase_evidence_comes_first_and_co_views_fill_the_room() -> None:
    inp = make_input(neighbours={"a": Neighbours({"x": 3.0, "v1": 1.0})}, popular=POPULAR)
    inp = replace(inp, co_viewed=CO)
    p = params(popular_fallback=True)
    assert ids(ranked(inp, p)) == ["x", "v1", "v2"]  # v1 once: as a co-purchase partner
    assert ranked(inp, p)[1].because == Because("a", 1.0, 0.0)
    full = make_input(neighbours={"a": Neighbours({"x": 3.0, "y": 2.0, "z": 1.0})})
    assert ids(ranked(replace(full, co_viewed=CO), p)) == ["x", "y", "z"]


def test_category_back_off_and_prior_popular_offers_wait_behind_co_views() -> None:
    inp = make_input(popular=POPULAR)
    cat = Because("a", 2.0, 0.1, category="mugs")
    inp = replace(
        inp,
        scored={"c": (5.0, "a", 5.0), "p1": (4.0, "", 0.0)},
        by_category={"c": cat},
        co_viewed=co_viewed_of("a", [("v1", 2.0)], frozenset({"a"})),
    )
    p = params(popular_fallback=True)
    assert ids(rank(inp, p)) == ["c", "p1", "p2"]
    assert ids(ranked(inp, p)) == ["v1", "c", "p1"]


def test_co_view_partners_pass_the_usual_rules() -> None:
    catalog = [
        CatalogItem("a", category="cam", price=100.0),
        CatalogItem("v1", active=False),  # unavailable
        CatalogItem("v2", category="cam", price=300.0),  # an upsell of the item
        CatalogItem("v3", category="bag", price=20.0),
    ]
    inp = make_input(catalog=catalog, history={"v3": NOW - 10.0}, popular=POPULAR)
    inp = replace(inp, co_viewed=CO)
    p = params(popular_fallback=True, rules=RuleParams(exclude_upsell=True))
    assert ids(ranked(inp, p)) == ["p1", "p2", "p3"]  # v1 off, v2 an upsell, v3 owned
    kept = ranked(replace(inp, history={}), p)
    assert ids(kept) == ["v3", "p1", "p2"]
    assert ranked(replace(inp, co_viewed={}), p) == rank(inp, p)


def test_a_view_is_a_cart_stream_event_that_is_no_cart_activity() -> None:
    raw = b'{"event_id": "v1", "type": "view", "user_id": 7, "item_id": "a", "ts": 1717236900}'
    event = parse_record("cart-events", raw, Limits())
    assert event == CartEvent("v1", "view", "7", "a", 1717236900.0)
    assert is_view(event) and not is_view(replace(event, type="add_to_cart"))
    assert route_of({"type": "view"}) == ("cart-events", "user_id")
    assert public_refusal("view", False) is None
    with pytest.raises(InvalidEvent, match="item_id"):
        parse_record(
            "cart-events", b'{"event_id": "v1", "type": "view", "user_id": 7, "ts": 1}', Limits()
        )


def test_only_product_pages_get_their_items_co_views() -> None:
    page = RankRequest(["a"], frozenset({"a"}), NOW, None, "product_page")
    cart = RankRequest(["a"], frozenset({"a", "v2"}), NOW, "u1", "cart")
    checkout = replace(page, placement="checkout")
    requests = [page, cart, checkout, replace(page, anchors=["b"], exclude=frozenset({"b", "v2"}))]
    assert product_page_items(requests) == ["a", "b"]
    co = {"a": [("v1", 7.0), ("a", 1.0)], "b": [("v2", 3.0), ("v3", 2.0)]}
    inputs = with_co_views([make_input() for _ in requests], requests, co)
    assert [dict(i.co_viewed) for i in inputs] == [
        {"v1": ("a", 7.0)},
        {},
        {},
        {"v3": ("b", 2.0)},  # its exclusions left out
    ]
