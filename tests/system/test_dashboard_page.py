"""The dashboard of a running demo in a real headless Chromium: sign-in, the live figures,
and plots a person can read (axes that fit their labels, a time axis of the data's span, the
AOV's interval as a band, notification labels that do not overlap). The test writes
docs/dashboard.png, so the picture in the README is always today's page. And the CLI, given
the `export` lines the demo printed, finds the demo and prints its figures for people."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.system.browser import chromium, errors
from tests.system.demo_run import DOCS, hosts, page_config, phone_offered_a_case, running_demo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo() -> Iterator[dict[str, Any]]:
    with running_demo() as found:
        yield found


AXES_SCRIPT = """
const out = {};
for (const [id, u] of Object.entries(window.xsellDashboard.plots)) {
  const y = u.axes[1];
  u.ctx.font = y.font[0];
  const widths = (y._values || []).map(v => u.ctx.measureText(String(v)).width / devicePixelRatio);
  out[id] = {size: y._size, need: Math.max(0, ...widths) + y.ticks.size + y.gap,
             labels: y._values, span: u.scales.x.max - u.scales.x.min,
             points: u.data[0].length};
}
return out;
"""
BOXES_SCRIPT = """
const box = e => {
  const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
return {
  labels: [...document.querySelectorAll('#notifications .bar-label')].map(box),
  tracks: [...document.querySelectorAll('#notifications .bar-track')].map(box),
  bands: [...document.querySelectorAll('#aov .forest-row')].map(r => ({
    variant: r.dataset.variant, band: r.querySelector('.band') && box(r.querySelector('.band')),
    mark: box(r.querySelector('.mark'))})),
};
"""


def readable(axes: dict[str, Any]) -> None:
    for plot, axis in axes.items():
        assert axis["size"] >= axis["need"], (plot, axis)  # "0,000": the label was clipped
        assert not any(re.search(r"\d,\d{3}", str(v)) for v in axis["labels"] or []), axis


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


TABLE_SCRIPT = """
const table = document.querySelector(arguments[0]);
return {
  heads: [...table.querySelectorAll('thead th')].map(e => e.textContent),
  rows: [...table.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.textContent)),
};
"""
BUNDLE_HEADS = [
    "variant",
    "impressions",
    "orders",
    "full",
    "partial",
    "full_attach_rate",
    "attach_rate",
    "revenue",
    "discount",
    "revenue_share",
]


def shown(value: Any) -> str:
    """A figure as the page's figure() writes it: 1,234; 0.1406; 1,234.57; "-" for none."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if float(value).is_integer():
        return f"{int(value):,}"
    text = f"{value:,.{2 if abs(value) >= 100 else 4}f}".rstrip("0")
    return text.rstrip(".")


def show_a_bundle(demo: dict[str, Any]) -> None:
    """A bundle answer served to the demo shop's visitor: a bundle impression in its
    variant (the demo's own traffic asks for none)."""
    config = page_config(demo["page"])
    phone = phone_offered_a_case(config)
    answer = httpx.get(
        f"{demo['api']}/v1/items/{phone}/bundle?user_id={config['user']}",
        headers={"Authorization": f"Bearer {config['key']}", "X-User-Token": config["token"]},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def test_the_dashboard_signs_in_and_plots_the_live_figures_readably(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    with chromium() as browser:
        browser.set_window_size(1400, 2000)
        browser.get(demo["dashboard"])
        WebDriverWait(browser, 10).until(lambda b: "/dashboard/login" in b.current_url)
        assert errors(browser) == []  # the favicon loads
        browser.find_element(By.NAME, "key").send_keys("not-the-key")
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        # the click returns before the answer's page is there (the failure is counted first)
        WebDriverWait(browser, 10).until(lambda b: "not a secret API key" in b.page_source)
        errors(browser)  # the 401 of the wrong key
        browser.find_element(By.NAME, "key").send_keys(demo["key"])
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(browser, 10).until(
            lambda b: b.execute_script("return document.body.dataset.ready === '1'")
        )
        first = browser.execute_script(AXES_SCRIPT)
        assert first["acceptance"]["points"] == 1
        assert first["acceptance"]["span"] <= 3600, first  # was 2027..2029 for one sample
        readable(first)
        cookies = {c["name"]: c for c in browser.get_cookies()}
        assert cookies["xsell_dashboard"]["httpOnly"] is True
        session = {"xsell_dashboard": cookies["xsell_dashboard"]["value"]}

        def figures() -> dict[str, Any]:
            answer = httpx.get(demo["dashboard"] + "/data.json", timeout=10, cookies=session)
            return dict(answer.json())

        def rows(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
            return {(r["placement"], r["variant"]): r for r in data["report"]["rows"]}

        show_a_bundle(demo)
        deadline = time.monotonic() + 120  # acceptance, revenue and a notification emerge
        data = figures()
        while time.monotonic() < deadline and not (
            rows(data).get(("cart", "default"), {}).get("accepted")
            and rows(data).get(("cart", "control"))
            and any(k.startswith("sent:") for k in data["notifications"])
        ):
            time.sleep(2)
            data = figures()
        busy = [m for m in data["minutes"] if m["events_per_s"] > 0]
        assert busy and any(m["p50"] is not None for m in busy)
        assert rows(data)[("cart", "default")]["suggestions"] > 0
        assert rows(data)[("cart", "default")]["accepted"] > 0
        assert rows(data)[("cart", "control")]["offered"] == 0  # the holdout saw nothing
        assert data["top_pairs"]
        time.sleep(6)  # the page's next refresh draws what data.json holds now
        for plot in ("throughput", "latency", "acceptance", "revenue", "dead"):
            assert browser.execute_script(
                f"return document.querySelectorAll('#{plot} canvas').length"
            ), plot
        axes = browser.execute_script(AXES_SCRIPT)
        readable(axes)
        assert all(a["span"] <= 6 * 3600 for a in axes.values()), axes
        boxes = browser.execute_script(BOXES_SCRIPT)
        bands = {b["variant"]: b for b in boxes["bands"]}
        assert {"default", "control"} <= set(bands), boxes
        for variant in ("default", "control"):  # a band, not a line, with the AOV on it
            band, mark = bands[variant]["band"], bands[variant]["mark"]
            assert band and band[2] - band[0] >= 4 and band[3] - band[1] >= 8, bands
            assert band[0] <= (mark[0] + mark[2]) / 2 <= band[2], bands
        labels, tracks = boxes["labels"], boxes["tracks"]
        assert labels and len(labels) == len(tracks)
        assert not [(a, b) for n, a in enumerate(labels) for b in labels[n + 1 :] if overlap(a, b)]
        assert not [(a, b) for a in labels for b in tracks if overlap(a, b)], boxes
        variants = browser.execute_script(
            "return [...document.querySelectorAll('#variants tbody tr')].map(r => r.innerText)"
        )
        assert sorted(v.split()[0] for v in variants) == ["control", "default"], variants
        assert not re.search(r"\de[+-]\d", " ".join(variants)), variants
        offers = browser.execute_script(TABLE_SCRIPT, "#report")
        assert offers["heads"][-2:] == ["cannibalized", "cannibalization_rate"], offers
        rate = {(r[0], r[1]): r[-1] for r in offers["rows"]}[("cart", "default")]
        assert re.fullmatch(r"-|\d+(\.\d+)?", rate), offers  # accepted > 0: a rate, maybe 0
        segments = browser.execute_script(TABLE_SCRIPT, "#by-segment")
        assert segments["heads"][:3] == ["dimension", "segment", "variant"], segments
        assert segments["rows"], segments  # the demo's shoppers have segments
        assert {r[0] for r in segments["rows"]} <= {"lifecycle", "spend"}, segments
        bundles = browser.execute_script(TABLE_SCRIPT, "#bundles")
        assert bundles["heads"] == BUNDLE_HEADS, bundles
        held = figures()["report"]["bundles"]  # only this test's bundle answer changes them
        assert held["default"]["impressions"] >= 1 and held["control"]["impressions"] == 0
        assert bundles["rows"] == [
            [name, *(shown(held[name][h]) for h in BUNDLE_HEADS[1:])] for name in sorted(held)
        ], (bundles, held)
        assert hosts(browser) <= {demo["api"]}
        assert errors(browser) == []
        shot = tmp_path / "dashboard.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 20_000
        shot.replace(DOCS / "dashboard.png")  # the README's picture, never stale


def xsell(*args: str, env: dict[str, str]) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("XSELL_")}
    result = subprocess.run(
        [sys.executable, "-m", "xsell.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **env},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_cli_finds_the_demo_by_its_export_lines_and_prints_for_people(
    demo: dict[str, Any],
) -> None:
    env = demo["env"]
    assert {"XSELL_KAFKA_BROKERS", "XSELL_REDIS_URL"} <= set(env)
    status = xsell("status", env=env)
    assert status.startswith("state: present"), status  # the demo's state, not an empty one
    assert "{" not in status and "'" not in status, status  # no dict reprs
    assert re.search(r"^  orders: +[\d,.]+ orders", status, re.M), status
    report = xsell("report", env=env)
    assert "e+" not in report and "e-0" not in report, report
    lines = report.splitlines()
    table = lines[lines.index("offers per placement and variant:") + 1 :]
    table = table[: table.index("")]
    assert len(table) >= 2 and len({len(line) for line in table}) == 1, report  # aligned
    assert "orders" not in table[0].split(), report  # totals once, per variant
