"""How a micro-batch is split into concurrent lanes (xsell.engine.split_lanes)."""

from __future__ import annotations

from models.events import CartEvent, CatalogItem, ForgetUser, OrderLine, PurchaseEvent
from xsell.engine import split_lanes


def add(n: int, user: str) -> CartEvent:
    return CartEvent(f"c{n}", "add_to_cart", user, f"i{n}", float(n))


def test_a_users_events_share_a_lane_in_their_order() -> None:
    events = [add(0, "u1"), add(1, "u2"), add(2, "u1"), add(3, "u3"), add(4, "u2"),
              add(5, "u1")]
    groups = split_lanes(events, 2)
    assert sorted(i for g in groups for i in g) == list(range(6))  # each event once
    for g in groups:
        assert g == sorted(g)
        users = {events[i].user_id for i in g}
        for u in users:  # every event of a user in this lane
            assert [i for i, e in enumerate(events) if e.user_id == u] == \
                [i for i in g if events[i].user_id == u]
    assert groups == [[0, 2, 5], [1, 3, 4]]  # u1 (3 events) | u2 then u3 to the lighter lane


def test_one_lane_or_one_user_keeps_the_batch_whole() -> None:
    events = [add(0, "u1"), add(1, "u2"), add(2, "u1")]
    assert split_lanes(events, 1) == [[0, 1, 2]]
    assert split_lanes([add(0, "u"), add(1, "u")], 4) == [[0, 1]]
    assert split_lanes([], 3) == []


def test_guests_catalogue_entries_and_forgotten_users_get_keys_of_their_own() -> None:
    guest = [PurchaseEvent(f"e{n}", f"o{n}", None, 1.0, (OrderLine("a"),)) for n in range(2)]
    events = [*guest, CatalogItem(item_id="a"), ForgetUser("f1", "u1", 2.0), add(9, "u1")]
    groups = split_lanes(events, 8)
    assert len(groups) == 4  # guest 1, guest 2, catalogue entry a, user u1
    assert [3, 4] in groups


def test_lanes_are_balanced_by_event_count() -> None:
    events = [add(n, f"u{n % 5}") for n in range(50)]
    sizes = sorted(len(g) for g in split_lanes(events, 2))
    assert sizes == [20, 30]  # five users of 10 events: 3 + 2
