"""Would a time-of-day popularity prior help? ``python -m xsell.evaluation.daypart_study FILE``.

The cart protocol's split and triggers (xsell/evaluation/protocol.py), three popularity
anchors that learn the test orders as they stream: all orders; the orders of the trigger's
daypart (before 11, 11-15, 15-19, after 19, UTC) and weekday or weekend; and the daypart's
share shrunk towards the overall share by ``PRIOR`` orders. A daypart prior would only move
xsell's popularity term, so if the daypart anchor does not beat plain popularity, the prior
has nothing to give (docs/evaluation.md, "Time of day").
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable

from xsell.evaluation.protocol import EvalData, Metrics
from xsell.models.events import PurchaseEvent
from xsell.ops.orders_csv import ONLINE_RETAIL_MAP, ONLINE_RETAIL_SKIP, parse_map, read_orders

K = 3
PRIOR = 100.0  # orders of the overall share a daypart's share is shrunk towards
SHORTLIST = 200  # most popular items, overall and in the daypart, that the blend ranks

Part = tuple[int, bool]


def daypart(ts: float) -> Part:
    """(daypart 0-3, weekend) of an event time, in UTC."""
    when = datetime.datetime.fromtimestamp(ts, datetime.UTC)
    hour = when.hour
    return (0 if hour < 11 else 1 if hour < 15 else 2 if hour < 19 else 3), when.weekday() >= 5


def top(counts: Counter[str], banned: set[str], k: int = K) -> list[str]:
    """The k most counted items outside ``banned``."""
    out = []
    for item, _ in counts.most_common(k + len(banned)):
        if item not in banned:
            out.append(item)
        if len(out) == k:
            break
    return out


def blended(overall: Counter[str], part: Counter[str], banned: set[str]) -> list[str]:
    """The daypart's share shrunk towards the overall share by ``PRIOR`` orders."""
    total, in_part = max(sum(overall.values()), 1), sum(part.values())
    pool = {i for i, _ in overall.most_common(SHORTLIST)} | {
        i for i, _ in part.most_common(SHORTLIST)
    }
    score = {i: (part[i] + PRIOR * overall[i] / total) / (in_part + PRIOR) for i in pool}
    return sorted((i for i in pool if i not in banned), key=lambda i: (-score[i], i))[:K]


def study(orders: Iterable[PurchaseEvent]) -> dict[str, float]:
    """HR@3 of the three anchors on the cart protocol, streamed."""
    data = EvalData.of(list(orders))
    overall: Counter[str] = Counter()
    by_part: defaultdict[Part, Counter[str]] = defaultdict(Counter)

    def learn(order: PurchaseEvent) -> None:
        for item in order.distinct_items():
            overall[item] += 1
            by_part[daypart(order.ts)][item] += 1

    for order in data.train:
        learn(order)
    metrics = {name: Metrics(K) for name in ("popular", "daypart", "daypart_blend")}
    for order, items in data.sessions:
        part = by_part[daypart(order.ts)]
        for n in range(len(items) - 1):
            cart, rest = set(items[: n + 1]), set(items[n + 1 :])
            metrics["popular"].add(top(overall, cart), rest)
            metrics["daypart"].add(top(part, cart), rest)
            metrics["daypart_blend"].add(blended(overall, part, cart), rest)
        learn(order)
    return {name: m.result(len(data.catalogue))["hr"] for name, m in metrics.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "file", help="orders CSV with xsell's columns, or the Online Retail II file"
    )
    args = parser.parse_args()
    if "online_retail" in args.file:
        skip = frozenset(ONLINE_RETAIL_SKIP.split(","))
        orders = read_orders(args.file, parse_map(ONLINE_RETAIL_MAP), skip)
    else:
        orders = read_orders(args.file)
    sys.stdout.write(json.dumps({"file": args.file, "hr": study(orders)}) + "\n")


if __name__ == "__main__":
    main()
