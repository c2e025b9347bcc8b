"""The CLI's text for people: figures without exponents, aligned tables, no dict reprs, the
report's totals once, backfill's wall time."""

from __future__ import annotations

import math
from typing import Any

import pytest

from xsell.cli.common import backfill_text, status_text, summary_text
from xsell.feedback.report import table
from xsell.models.text import aligned, fields, number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (384512.25, "384,512.25"),  # was 3.845e+05
        (3.845e5, "384,500"),
        (12000, "12,000"),
        (12000.0, "12,000"),
        (0.152345, "0.1523"),
        (0.00001, "0"),
        (1.5, "1.5"),
        (-1234.5, "-1,234.5"),
        (None, "-"),
        (math.nan, "-"),
        (math.inf, "-"),
        (True, "True"),
        ("cart", "cart"),
    ],
)
def test_number(value: Any, text: str) -> None:
    assert number(value) == text


def test_aligned_columns_line_up_under_long_heads() -> None:
    lines = aligned(
        ("variant", "attributed_revenue", "n"), [["default", 384512.25, 3], ["c", 1, 12000]]
    )
    assert lines == [
        "variant  attributed_revenue       n",
        "default          384,512.25       3",
        "c                         1  12,000",
    ]
    assert len({len(line) for line in lines}) == 1


def test_fields_flatten_nested_mappings_without_reprs() -> None:
    lines = fields({"state": "present", "tuning": {"recency": 0.5, "z": {}}, "days": [1, 2]})
    text = "\n".join(lines)
    assert "{" not in text and "}" not in text and "[" not in text
    assert lines == [
        "  state:  present",
        "  tuning:",
        "    recency: 0.5",
        "    z:       -",
        "  days:   1, 2",
    ]


def status() -> dict[str, Any]:
    return {
        "state": "present",
        "namespace": "xsell",
        "orders": 12345.678,
        "orders_unit": "orders applied (no decay)",
        "latest_event_ts": 1704067200.5,
        "tuning": {"chosen": 0.5, "cases": 1200},
        "notifications": {"sent:push": 3, "suppressed:cap": 1},
    }


def test_status_text_has_no_dict_reprs() -> None:
    text = status_text(status())
    assert "{" not in text and "'" not in text  # was tuning: {'chosen': 0.5, ...}
    assert text.splitlines()[0] == "state: present"
    assert "  orders:          12,345.68 orders applied (no decay)" in text.splitlines()
    assert "    sent:push:      3" in text.splitlines()
    assert "  latest_event_ts: 1704067200.5" in text.splitlines()


def test_backfill_text_leads_with_the_wall_time() -> None:
    result = {
        "orders": 21724,
        "seconds": 8.18,
        "read_seconds": 12.1,
        "wall_seconds": 21.8,
        "skip_reasons": {"empty item_id": 2},
    }
    lines = backfill_text(result).splitlines()
    assert lines[0] == "backfill: 21,724 orders in 21.8 s (reading the file 12.1 s, loading 8.18 s)"
    assert "{" not in "\n".join(lines)
    assert summary_text("rebuild", {"orders": 3.845e5}).splitlines() == [
        "rebuild:",
        "  orders: 384,500",
    ]


def report() -> dict[str, Any]:
    row = {
        "suggestions": 1200,
        "offered": 2400,
        "impressions": 1100,
        "clicks": 80,
        "dismisses": 0,
        "accepted": 60,
        "attributed_revenue": 384512.25,
        "ctr": 0.072727,
        "acceptance_rate": 0.025,
        "orders": 900,
        "revenue": 512345.5,
        "aov": 569.27,
    }
    variant = {
        "orders": 900,
        "revenue": 512345.5,
        "aov": 569.27,
        "aov_low": 540.1,
        "aov_high": 598.4,
        "users": 700,
        "revenue_per_user": 731.92,
    }
    return {
        "rows": [
            {"placement": "cart", "variant": "default", **row},
            {"placement": "purchase", "variant": "default", **row},
        ],
        "variants": {"control": {**variant, "orders": 200}, "default": variant},
        "comparisons": [
            {
                "variant": "default",
                "against": "control",
                "aov": {"ratio": 1.05, "low": 0.98, "high": 1.12, "p_value": 0.0001234},
                "revenue_per_user": {"ratio": 1.1, "low": 1.0, "high": 1.2, "p_value": 0.04},
            }
        ],
        "test": "Welch",
        "days": ["2026-12-07"],
        "experiment": "default",
    }


def test_report_table_is_aligned_without_exponents_and_totals_once() -> None:
    text = table(report())
    assert "e+" not in text and "e-" not in text  # was 3.845e+05, 1.234e-04
    lines = text.splitlines()
    offers = lines[lines.index("offers per placement and variant:") + 1 :][:3]
    assert len({len(line) for line in offers}) == 1  # every row as wide as the head
    heads = offers[0].split()
    assert "orders" not in heads and "revenue" not in heads  # no totals per placement
    for line in offers[1:]:
        assert offers[0].index("attributed_revenue") + len("attributed_revenue") == (
            line.index("384,512.25") + len("384,512.25")
        )
    assert text.count("512,345.5") == 2  # each variant's revenue once (was per placement)
    variants = lines[
        lines.index("orders per variant (aov_low .. aov_high: the 95% interval of the AOV):") + 1 :
    ][:3]
    assert [v.split()[0] for v in variants] == ["variant", "control", "default"]
    assert "p 0.0001" in text
