"""The popular padding a request gets (xsell.models.inputs.usable)."""

from __future__ import annotations

from xsell.models.inputs import usable

POPULAR = [("a", 9.0), ("b", 8.0), ("c", 7.0), ("d", 6.0), ("e", 5.0)]


def test_cart_items_are_left_out_and_the_rest_kept_in_order_up_to_n() -> None:
    assert usable(POPULAR, frozenset({"a", "c"}), 2) == [("b", 8.0), ("d", 6.0)]
    assert usable(POPULAR, frozenset(), 3) == POPULAR[:3]


def test_fewer_popular_items_than_wanted_gives_what_there_is() -> None:
    assert usable(POPULAR, frozenset({"a", "b", "c", "d"}), 3) == [("e", 5.0)]
    assert usable([], frozenset(), 3) == []
