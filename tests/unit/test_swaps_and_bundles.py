"""The cannibalization rule (models/attribution.py), the bundles an order carries
(xsell/store/attribution/bundles.py) and the report's figures of both
(xsell/feedback/report.py), against values worked out by hand."""

from __future__ import annotations

from xsell.config.settings import load_settings
from xsell.feedback.report import summarise, table
from xsell.models.attribution import Ledger, on_add, on_buy, on_purchase, on_remove, record
from xsell.models.bundles import bundle_id
from xsell.models.events import VIEW, CartEvent, OrderLine, PurchaseEvent
from xsell.store.attribution.bundles import bundle_lines
from xsell.store.attribution.ledger import Attribution, is_attributed
from xsell.store.core.keys import Keys

DAY = 86400.0
SWAP = [("cart", "a", "cannibalized", 1.0)]


def test_a_trigger_removed_after_an_acceptance_is_a_swap_once() -> None:
    ledger = Ledger()
    record(ledger, "s1", 100, "cart", "a", ["case", "charger"], triggers=["phone"])
    on_add(ledger, "case", None, 110, DAY)
    on_add(ledger, "charger", None, 115, DAY)
    assert on_remove(ledger, "case", 118, DAY) == []  # not a trigger
    assert on_remove(ledger, "phone", 120, DAY) == SWAP + SWAP  # each acceptance once
    on_add(ledger, "phone", None, 121, DAY)
    assert on_remove(ledger, "phone", 122, DAY) == []  # counted already


def test_a_purchase_in_between_or_an_old_offer_is_no_swap() -> None:
    ledger = Ledger()
    record(ledger, "s1", 100, "cart", "a", ["case"], triggers=["phone"])
    on_add(ledger, "case", None, 110, DAY)
    on_buy(ledger, "case", None, 20.0, 130, DAY)
    on_purchase(ledger)
    assert on_remove(ledger, "phone", 140, DAY) == []  # both were bought
    ledger = Ledger()
    record(ledger, "s1", 100, "cart", "a", ["case"], triggers=["phone"])
    on_add(ledger, "case", None, 110, DAY)
    assert on_remove(ledger, "phone", 100 + DAY + 1, DAY) == []  # beyond the offer's window


def test_an_acceptance_by_a_purchase_or_of_the_trigger_itself_is_kept_for_nothing() -> None:
    ledger = Ledger()
    record(ledger, "s1", 100, "cart", "a", ["case", "phone"], triggers=["phone"])
    on_buy(ledger, "case", None, 20.0, 110, DAY)  # accepted by buying it: no cart to leave
    on_add(ledger, "phone", None, 111, DAY)  # the trigger offered again and added
    assert on_remove(ledger, "phone", 120, DAY) == []


def order(*lines: OrderLine) -> PurchaseEvent:
    return PurchaseEvent("e1", "o1", "u1", 100.0, lines)


def test_an_order_carries_a_bundle_whole_only_when_its_lines_make_the_id() -> None:
    whole, other = bundle_id(["cam", "sd", "strap"]), bundle_id(["mug", "tea"])
    got = bundle_lines(
        order(
            OrderLine("strap", price=12.6, bundle_id=whole),
            OrderLine("cam", price=360.0, bundle_id=whole),
            OrderLine("sd", quantity=2, price=10.8, bundle_id=whole),
            OrderLine("mug", price=9.0, bundle_id=other),  # the tea bought without the id
            OrderLine("tea", price=25.0),
        )
    )
    assert got == [(whole, True, 12.6 + 360.0 + 21.6), (other, False, 9.0)]
    assert bundle_lines(order(OrderLine("cam", price=1.0))) == []


def test_the_report_gives_the_swap_rate_and_each_variants_bundles() -> None:
    counters = {
        "cart\0a\0offered": "10",
        "cart\0a\0accepted": "4",
        "cart\0a\0cannibalized": "1",
        "\0a\0orders": "5",
        "\0a\0revenue": "500",
        "\0a\0bundle_impressions": "8",
        "\0a\0bundle_orders": "3",
        "\0a\0bundle_full": "2",
        "\0a\0bundle_partial": "1",
        "\0a\0bundle_revenue": "250",
        "\0a\0bundle_discount": "40",
        "\0control\0orders": "2",
        "\0control\0revenue": "150",
    }
    rep = summarise({0: (counters, {})})
    [row] = rep["rows"]
    assert (row["cannibalized"], row["cannibalization_rate"]) == (1.0, 0.25)
    assert rep["bundles"]["a"] == {
        "impressions": 8,
        "orders": 3,
        "full": 2,
        "partial": 1,
        "revenue": 250.0,
        "discount": 40.0,
        "full_attach_rate": 0.25,
        "attach_rate": 0.375,
        "revenue_share": 0.5,
    }
    assert rep["bundles"]["control"]["impressions"] == 0  # the holdout is shown none
    assert rep["bundles"]["control"]["full_attach_rate"] is None
    rep.update(days=["1970-01-01"], experiment="e")
    text = table(rep)
    assert "cannibalization_rate" in text and "full_attach_rate" in text


def test_cart_changes_are_attributed_views_are_not() -> None:
    settings = load_settings()
    ledger = Attribution(Keys(settings.redis.key_namespace), settings)
    for kind, script_kind in (("add_to_cart", "add"), ("remove_from_cart", "remove")):
        event = CartEvent("e", kind, "u", "i", 1.0)
        assert is_attributed(event)
        call = ledger.ledger_call(event)
        assert call is not None and call[2][3] == script_kind
    view = CartEvent("v", VIEW, "u", "i", 1.0)
    assert not is_attributed(view) and ledger.ledger_call(view) is None
