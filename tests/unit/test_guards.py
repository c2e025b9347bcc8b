"""The pure parts of exactly-once (xsell/store/core/guards.py) and the horizon's settings."""

from __future__ import annotations

import pytest

from tests.unit.settings_env import clean_env  # noqa: F401  (the fixture)
from xsell.config.settings import load_settings
from xsell.store import Position
from xsell.store.core.guards import is_redelivery, source_positions

NOW, HORIZON = 1_000_000.0, 100
pytestmark = pytest.mark.usefixtures("clean_env")


def test_a_record_at_or_below_its_position_and_older_than_the_horizon_is_a_redelivery() -> None:
    old = NOW - HORIZON - 1
    assert is_redelivery(Position("t:0", 5, old), 5, NOW, HORIZON)
    assert is_redelivery(Position("t:0", 4, old), 5, NOW, HORIZON)
    assert not is_redelivery(Position("t:0", 6, old), 5, NOW, HORIZON)  # beyond the position
    assert not is_redelivery(Position("t:0", 4, old), None, NOW, HORIZON)  # nothing committed
    assert not is_redelivery(None, 5, NOW, HORIZON)  # no position (an API's apply)
    # recent: its done marker must say (a recreated topic starts again at offset 0)
    assert not is_redelivery(Position("t:0", 4, NOW - 1), 5, NOW, HORIZON)
    # a load's position has no time: the position alone decides
    assert is_redelivery(Position("load:x", 4), 5, NOW, HORIZON)


def test_a_commit_records_each_source_highest_offset() -> None:
    positions = [
        Position("a:0", 3),
        None,
        Position("a:1", 7),
        Position("a:0", 9),
        Position("a:0", 8),
    ]
    assert source_positions(positions) == {"a:0": 9, "a:1": 7}
    assert source_positions([None]) == {}


def test_the_horizon_defaults_to_three_days_and_the_old_name_still_sets_it() -> None:
    assert load_settings().learning.dedup_horizon_seconds == 3 * 86400
    assert load_settings(dedup_retention_days=2).learning.dedup_horizon_seconds == 2 * 86400
    both = load_settings(dedup_retention_days=2, dedup_horizon_seconds=60)
    assert both.learning.dedup_horizon_seconds == 60  # the horizon wins
