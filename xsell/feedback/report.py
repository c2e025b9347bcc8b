"""``xsell report`` and ``GET /v1/report``: what the offers did, per placement and variant,
and each variant against the control group, over the days the store keeps.

Rows (placement x variant): suggestions, offered items, impressions, clicks, ctr
(clicks / impressions), accepted (offered items later added to the cart or bought, once each),
acceptance_rate (accepted / offered), attributed_revenue (price x quantity of accepted items
that were bought), cannibalized (accepted by an add-to-cart, then a trigger item of the offer
left the cart before the next purchase: a swap, not an addition), cannibalization_rate
(cannibalized / accepted), and the variant's orders, revenue and aov (average order value).

Bundles (per variant, the control group included: it is shown none): impressions (bundle
answers served to a user), orders carrying a bundle shown to the user, full and partial attach,
the bundles' revenue and the discount they gave (xsell/store/attribution/bundles.py).

Per rule (``rules``: rule x variant): offered items a merchant rule placed (docs/rules.md),
accepted, acceptance_rate, attributed_revenue and cannibalized, and a row of ``rule_id`` None
for the offers no rule placed (the placements' totals less the rules'; offers recorded before
rules were counted are there too).

Per segment (``segments``: lifecycle or spend tier x variant, xsell/feedback/segment_report.py):
the offers made to the segment's shoppers and what they earned, the orders of its buyers and
their AOV, each variant's against the control group's in the same segment.

Comparisons (variant vs control, Welch's test: models/stats.py): the ratio of the AOV and of
the revenue per user (users seen in the variant, buyers or not), each with a 95% interval and
a p-value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from xsell.feedback.segment_report import SEGMENT_COLUMNS, segment_key, segment_line, segment_rows
from xsell.models.experiments import CONTROL
from xsell.models.stats import Sample, t_quantile, welch
from xsell.models.text import aligned, number
from xsell.store import RULE_PREFIX, SEP, Store, day_of

PLACEMENT_COUNTERS = (
    "suggestions",
    "offered",
    "impressions",
    "clicks",
    "dismisses",
    "accepted",
    "attributed_revenue",
    "cannibalized",
)
VARIANT_COUNTERS = ("orders", "revenue", "revenue_sq")
RULE_COUNTERS = ("offered", "accepted", "attributed_revenue", "cannibalized")
# the variant's bundle counters (the day's "\0variant\0bundle_<name>" fields), as reported
BUNDLE_COUNTERS = {
    "impressions": "bundle_impressions",
    "orders": "bundle_orders",
    "full": "bundle_full",
    "partial": "bundle_partial",
    "revenue": "bundle_revenue",
    "discount": "bundle_discount",
}


def day_text(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, UTC).date().isoformat()


async def report_days(store: Store) -> list[int]:
    """The days that hold report data, in order."""
    return await store.attribution.report_days()


async def read_days(
    store: Store, days: Iterable[int]
) -> dict[int, tuple[dict[str, str], dict[str, str]]]:
    """Each day's counters and per-user revenue rows."""
    return await store.attribution.read_days(days)


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


def summarise(data: dict[int, tuple[dict[str, str], dict[str, str]]]) -> dict[str, Any]:
    """The report of the days in ``data`` (pure: the arithmetic of the module doc)."""
    placed: dict[tuple[str, str], dict[str, float]] = {}
    ruled: dict[tuple[str, str], dict[str, float]] = {}
    segmented: dict[tuple[str, str, str], dict[str, float]] = {}
    variants: dict[str, dict[str, float]] = {}
    per_user: dict[str, dict[str, float]] = {}
    for counters, users in data.values():
        for field, value in counters.items():
            placement, variant, name = field.split(SEP, 2)
            seg = segment_key(placement)
            if seg is not None:
                bucket = segmented.setdefault((*seg, variant), {})
            elif placement.startswith(RULE_PREFIX):
                bucket = ruled.setdefault((placement[len(RULE_PREFIX) :], variant), {})
            elif placement:
                bucket = placed.setdefault((placement, variant), {})
            else:
                bucket = variants.setdefault(variant, {})
            bucket[name] = bucket.get(name, 0.0) + float(value)
        for field, value in users.items():
            variant, pid = field.split(SEP, 1)
            mine = per_user.setdefault(variant, {})
            mine[pid] = mine.get(pid, 0.0) + float(value)
    names = sorted({v for _, v in placed} | set(variants) | set(per_user))
    rows = []
    for (placement, variant), c in sorted(placed.items()):
        v = variants.get(variant, {})
        rows.append(
            {
                "placement": placement,
                "variant": variant,
                **{n: round(c.get(n, 0.0), 6) for n in PLACEMENT_COUNTERS},
                "ctr": _ratio(c.get("clicks", 0.0), c.get("impressions", 0.0)),
                "acceptance_rate": _ratio(c.get("accepted", 0.0), c.get("offered", 0.0)),
                "cannibalization_rate": _ratio(c.get("cannibalized", 0.0), c.get("accepted", 0.0)),
                "orders": int(v.get("orders", 0.0)),
                "revenue": round(v.get("revenue", 0.0), 6),
                "aov": _ratio(v.get("revenue", 0.0), v.get("orders", 0.0)),
            }
        )
    summary = {
        name: _variant_summary(variants.get(name, {}), per_user.get(name, {})) for name in names
    }
    comparisons = []
    if CONTROL in summary:
        for name in names:
            if name != CONTROL:
                comparisons.append(_compare(name, variants, per_user))
    return {
        "rows": rows,
        "rules": rule_rows(placed, ruled),
        "segments": segment_rows(segmented),
        "variants": summary,
        "bundles": {name: bundle_summary(variants.get(name, {})) for name in names},
        "comparisons": comparisons,
        "test": "Welch's t-test; 95% interval of the ratio by the delta method",
    }


def rule_rows(
    placed: dict[tuple[str, str], dict[str, float]],
    ruled: dict[tuple[str, str], dict[str, float]],
) -> list[dict[str, Any]]:
    """Per rule and variant: what the offers a rule placed did; then per variant, the offers
    no rule placed (``rule_id`` None): the placements' totals less the rules' (each offer
    counts in its placement, and in its rule when one placed it)."""
    rest: dict[str, dict[str, float]] = {}
    for (_, variant), c in placed.items():
        mine = rest.setdefault(variant, {})
        for n in RULE_COUNTERS:
            mine[n] = mine.get(n, 0.0) + c.get(n, 0.0)
    for (_, variant), c in ruled.items():
        mine = rest.setdefault(variant, {})
        for n in RULE_COUNTERS:
            mine[n] = mine.get(n, 0.0) - c.get(n, 0.0)
    keyed: list[tuple[str | None, str, dict[str, float]]] = [
        *((rule, variant, c) for (rule, variant), c in sorted(ruled.items())),
        *((None, variant, c) for variant, c in sorted(rest.items()) if any(c.values())),
    ]
    return [
        {
            "rule_id": rule,
            "variant": variant,
            **{n: round(max(c.get(n, 0.0), 0.0), 6) for n in RULE_COUNTERS},
            "acceptance_rate": _ratio(c.get("accepted", 0.0), c.get("offered", 0.0)),
        }
        for rule, variant, c in keyed
    ]


def bundle_summary(c: dict[str, float]) -> dict[str, Any]:
    """A variant's bundle figures: the counts, full_attach_rate (orders carrying the whole
    bundle per impression), attach_rate (full or partial, per impression) and revenue_share
    (bundle revenue / the variant's revenue)."""
    out: dict[str, Any] = {k: round(c.get(v, 0.0), 6) for k, v in BUNDLE_COUNTERS.items()}
    for k in ("impressions", "orders", "full", "partial"):
        out[k] = int(out[k])
    out["full_attach_rate"] = _ratio(out["full"], out["impressions"])
    out["attach_rate"] = _ratio(out["full"] + out["partial"], out["impressions"])
    out["revenue_share"] = _ratio(out["revenue"], c.get("revenue", 0.0))
    return out


def _orders(c: dict[str, float]) -> Sample:
    return Sample(int(c.get("orders", 0.0)), c.get("revenue", 0.0), c.get("revenue_sq", 0.0))


def _users(rows: dict[str, float]) -> Sample:
    values = list(rows.values())
    return Sample(len(values), sum(values), sum(x * x for x in values))


def _variant_summary(c: dict[str, float], rows: dict[str, float]) -> dict[str, Any]:
    orders, users = _orders(c), _users(rows)
    low, high = mean_interval(orders)
    return {
        "orders": orders.n,
        "revenue": round(orders.total, 6),
        "aov": round(orders.mean, 6) if orders.n else None,
        "aov_low": low,
        "aov_high": high,
        "users": users.n,
        "revenue_per_user": round(users.mean, 6) if users.n else None,
    }


def mean_interval(sample: Sample) -> tuple[float | None, float | None]:
    """The 95% t interval of a sample's mean (None with fewer than two values)."""
    if sample.n < 2:
        return None, None
    half = t_quantile(0.975, sample.n - 1) * math.sqrt(sample.variance / sample.n)
    return round(sample.mean - half, 6), round(sample.mean + half, 6)


def _compare(
    name: str, variants: dict[str, dict[str, float]], per_user: dict[str, dict[str, float]]
) -> dict[str, Any]:
    aov = welch(_orders(variants.get(name, {})), _orders(variants.get(CONTROL, {})))
    rpu = welch(_users(per_user.get(name, {})), _users(per_user.get(CONTROL, {})))
    return {
        "variant": name,
        "against": CONTROL,
        "aov": {k: _round(v) for k, v in asdict(aov).items()},
        "revenue_per_user": {k: _round(v) for k, v in asdict(rpu).items()},
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


async def report(store: Store, since: float | None = None) -> dict[str, Any]:
    """The report from the day of ``since`` (epoch seconds; None: every kept day)."""
    days = [d for d in await report_days(store) if since is None or d >= day_of(since)]
    out = summarise(await read_days(store, days))
    names = {r.rule_id: r.name for r in (await store.rules.read()).rules}
    for row in out["rules"]:  # a deleted rule's figures stay, without a name
        row["name"] = None if row["rule_id"] is None else names.get(row["rule_id"])
    out["days"] = [day_text(d) for d in days]
    out["experiment"] = store.settings.running_experiment.name
    return out


OFFER_COLUMNS = (
    "suggestions",
    "impressions",
    "clicks",
    "ctr",
    "accepted",
    "acceptance_rate",
    "attributed_revenue",
    "cannibalization_rate",
)
BUNDLE_COLUMNS = (
    "impressions",
    "full",
    "partial",
    "full_attach_rate",
    "revenue",
    "discount",
    "revenue_share",
)
RULE_COLUMNS = ("offered", "accepted", "acceptance_rate", "attributed_revenue")
VARIANT_COLUMNS = ("orders", "revenue", "aov", "aov_low", "aov_high", "users", "revenue_per_user")


def table(rep: dict[str, Any]) -> str:
    """The report for people: the offers per placement and variant, then each variant's
    orders once (the rows of the JSON repeat them per placement), then the comparisons."""
    offers = [
        [r["placement"], r["variant"], *(r.get(h) for h in OFFER_COLUMNS)] for r in rep["rows"]
    ]
    variants = [[name, *(v[h] for h in VARIANT_COLUMNS)] for name, v in rep["variants"].items()]
    lines = [
        f"report of {len(rep['days'])} day(s), experiment {rep['experiment']}",
        "",
        "offers per placement and variant:",
        *aligned(("placement", "variant", *OFFER_COLUMNS), offers, "  "),
        "",
        "orders per variant (aov_low .. aov_high: the 95% interval of the AOV):",
        *aligned(("variant", *VARIANT_COLUMNS), variants, "  "),
    ]
    bundles = [
        [name, *(b[h] for h in BUNDLE_COLUMNS)] for name, b in rep.get("bundles", {}).items()
    ]
    if bundles:
        lines += [
            "",
            "bundles per variant (full: orders holding the whole bundle shown; control: none "
            "shown):",
            *aligned(("variant", *BUNDLE_COLUMNS), bundles, "  "),
        ]
    if rep.get("rules"):
        ruled = [
            [r["rule_id"] or "(no rule)", r.get("name") or "", r["variant"]]
            + [r[h] for h in RULE_COLUMNS]
            for r in rep["rules"]
        ]
        lines += [
            "",
            "offers per merchant rule and variant (no rule: the offers xsell ranked alone):",
            *aligned(("rule", "name", "variant", *RULE_COLUMNS), ruled, "  "),
        ]
    if rep.get("segments"):
        lines += [
            "",
            "per shopper segment and variant (offers in the segment when offered, orders in the "
            "buyer's when buying; aov ratio: against the control group's in the segment):",
            *aligned(
                ("dimension", "segment", "variant", *SEGMENT_COLUMNS, "aov_ratio", "p"),
                [segment_line(r) for r in rep["segments"]],
                "  ",
            ),
        ]
    if rep["comparisons"]:
        lines += ["", "against the control group:"]
    for c in rep["comparisons"]:
        for what in ("aov", "revenue_per_user"):
            r = c[what]
            lines.append(
                f"  {c['variant']} vs {c['against']}, {what}: ratio {number(r['ratio'])} "
                f"(95% {number(r['low'])} .. {number(r['high'])}), p {number(r['p_value'])}"
            )
    lines.append(f"test: {rep['test']}")
    return "\n".join(lines)
