"""The replenishment notification's pure parts: its job (xsell/notify/scheduler.py), its due
time (models/notify_policy.py), its next look-in when nothing is due yet (models/rebuy.py)
and its offer count (xsell/notify/replenish.py)."""

from __future__ import annotations

from xsell.config.settings import load_settings
from xsell.models.events import OrderLine, PurchaseEvent
from xsell.models.notify_policy import POST_PURCHASE, REPLENISH, Policy, due_at
from xsell.models.rebuy import RECHECK_MIN_WAIT, RebuyParams, RebuyStats, next_due_at, recheck_at
from xsell.notify.replenish import replenish_params
from xsell.notify.scheduler import cancel_reason, purchase_job

DAY = 86400.0


def test_due_a_setting_after_the_order() -> None:
    policy = Policy(post_purchase_seconds=600, replenish_seconds=7 * DAY)
    assert due_at(REPLENISH, 1000, policy) == 1000 + 7 * DAY
    assert due_at(POST_PURCHASE, 1000, policy) == 1600
    assert load_settings().notify.policy.replenish_seconds == 7 * DAY
    assert load_settings().notify.replenish is False  # off by default


def test_an_orders_replenish_job_has_its_own_id_and_trigger() -> None:
    settings = load_settings(notify_replenish=True, notify_replenish_seconds=3 * DAY)
    order = PurchaseEvent("p1", "o1", "u", 1e9, (OrderLine("coffee"), OrderLine("mug")))
    refill = purchase_job(order, "u", settings, REPLENISH)
    after = purchase_job(order, "u", settings)
    assert (refill.reason, after.reason) == (REPLENISH, POST_PURCHASE)
    assert refill.notification_id != after.notification_id
    assert refill.notification_id == purchase_job(order, "u", settings, REPLENISH).notification_id
    assert refill.trigger == after.trigger
    assert refill.send_at == 1e9 + 3 * DAY
    assert refill.expires_at == refill.send_at + settings.notify.ttl_seconds
    # moving another replenish is no cancellation of a cart_abandoned: nothing to log
    assert cancel_reason(REPLENISH, "scheduled") is None
    assert cancel_reason(REPLENISH, "stale") is None


def test_up_to_max_suggestions_while_buy_again_learns() -> None:
    base = RebuyParams(max_offers=1, min_share=0.3)
    on = replenish_params(base, load_settings(max_suggestions=4, followed_window_days=30))
    assert on == RebuyParams(max_offers=4, min_share=0.3)
    off = replenish_params(base, load_settings(max_suggestions=4, followed_window_days=0))
    assert off.max_offers == 0


def test_the_next_look_in_is_the_first_owned_item_to_come_due() -> None:
    params = RebuyParams(max_offers=3)
    stats = {
        "coffee": RebuyStats(10, 30, 10 * DAY),  # due 8 days after the purchase
        "tea": RebuyStats(10, 30, 20 * DAY),  # due 16 days after
        "camera": RebuyStats(100, 2, 300 * DAY),  # a durable: never
    }
    history = {"coffee": 0.0, "tea": 0.0, "camera": 0.0}
    assert next_due_at(history, stats, 2 * DAY, params) == 8 * DAY
    assert next_due_at(history, stats, 9 * DAY, params) == 16 * DAY  # coffee is due already
    assert next_due_at({"camera": 0.0}, stats, 2 * DAY, params) is None
    assert next_due_at(history, stats, 2 * DAY, RebuyParams(max_offers=0)) is None


def test_the_look_in_waits_as_long_on_the_wall_clock_within_the_bound() -> None:
    # the wait is measured on the state's clock (100 behind) and added to the wall clock
    assert recheck_at(8 * DAY, 2 * DAY - 100, 2 * DAY, 60 * DAY) == 8 * DAY + 100
    assert recheck_at(8 * DAY, 2 * DAY, 2 * DAY, 5 * DAY) is None  # too far away
    assert recheck_at(None, 0.0, 0.0, 60 * DAY) is None
    # a stalled clock cannot bring it back every poll
    assert recheck_at(2 * DAY + 1, 2 * DAY, 3 * DAY, 60 * DAY) == 3 * DAY + RECHECK_MIN_WAIT
    assert load_settings().notify.replenish_max_wait_seconds == 60 * DAY
