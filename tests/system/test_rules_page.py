"""The rules console of a running demo in a real headless Chromium: sign in, reach
/dashboard/rules from the dashboard, see the API's reason for a refused rule, create a rule
from the form's fields, see it listed, preview a phone's offers (the pinned item first with the
rules, absent without), delete it, with no console errors and nothing loaded from elsewhere.
The test writes docs/rules-console.png, the picture docs/rules.md shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.system.browser import chromium, errors
from tests.system.demo_run import DOCS, hosts, page_config, running_demo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo() -> Iterator[dict[str, Any]]:
    with running_demo() as found:
        yield found


def listed(browser: WebDriver) -> list[str]:
    return list(
        browser.execute_script(
            "return [...document.querySelectorAll('#rules tbody tr')].map(r => r.dataset.ruleId)"
        )
    )


def column(browser: WebDriver, id_: str) -> list[str]:
    return list(
        browser.execute_script(
            f"return [...document.querySelectorAll('#{id_} li')].map(l => l.dataset.itemId)"
            ".filter(Boolean)"
        )
    )


def field(browser: WebDriver, name: str, text: str, form: str = "rule-form") -> None:
    box = browser.find_element(By.CSS_SELECTOR, f"#{form} [name={name}]")
    box.clear()
    box.send_keys(text)


def preview(browser: WebDriver) -> None:
    before = browser.execute_script("return document.body.dataset.previewed || ''")
    browser.find_element(By.ID, "preview").click()
    WebDriverWait(browser, 15).until(
        lambda b: b.execute_script("return document.body.dataset.previewed || ''") != before
    )


def test_the_rules_console_creates_previews_and_deletes_a_rule(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    catalog = page_config(demo["page"])["catalog"]
    phone = next(c["item_id"] for c in catalog if c["category"] == "phone" and c["active"])
    with chromium() as browser:
        browser.set_window_size(1400, 1500)
        browser.get(demo["dashboard"] + "/rules")
        WebDriverWait(browser, 10).until(lambda b: "/dashboard/login" in b.current_url)
        browser.find_element(By.NAME, "key").send_keys(demo["key"])
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/dashboard"))
        browser.find_element(By.LINK_TEXT, "rules").click()
        WebDriverWait(browser, 10).until(
            lambda b: b.execute_script("return document.body.dataset.ready === '1'")
        )
        assert listed(browser) == []

        # the offers of a phone without rules: the pin is an item they do not hold
        field(browser, "item_ids", phone, "preview-form")
        preview(browser)
        without = column(browser, "without")
        assert without, "the phone has offers"
        pin = next(  # an add-on rather than another phone
            c["item_id"]
            for c in sorted(catalog, key=lambda c: c["category"] == "phone")
            if c["active"] and c["stock"] > 0 and c["item_id"] not in {phone, *without}
        )

        # a refused rule: the API's reason is shown, nothing is saved
        field(browser, "name", "too many pins")
        field(browser, "pin", "A1, A2, A3, A4")
        browser.find_element(By.ID, "save").click()
        banner = browser.find_element(By.ID, "error")
        WebDriverWait(browser, 10).until(lambda b: banner.is_displayed())
        assert "400" in banner.text and "pin" in banner.text, banner.text
        assert listed(browser) == []
        assert [e for e in errors(browser) if "status of 400" not in e] == []  # that 400 only

        # the rule from the form's fields, previewed unsaved first
        field(browser, "name", "phones: pin an add-on")
        field(browser, "priority", "7")
        browser.find_element(By.CSS_SELECTOR, "input[name=placements][value=product_page]").click()
        field(browser, "items", phone)
        field(browser, "pin", pin)
        browser.find_element(By.ID, "add-boost").click()
        field(browser, "boost_value", "overstock")
        preview(browser)
        assert column(browser, "with-form")[0] == pin
        assert pin not in column(browser, "with")
        browser.find_element(By.ID, "save").click()
        WebDriverWait(browser, 10).until(lambda b: len(listed(b)) == 1)
        assert not banner.is_displayed()
        row = browser.find_element(By.CSS_SELECTOR, "#rules tbody tr").text
        assert "phones: pin an add-on" in row and "7" in row and pin in row, row
        assert '"tag":"overstock"' in row.replace(" ", ""), row
        version = browser.find_element(By.ID, "version").text

        # saved: the preview puts the pin first with the rules, and not at all without them
        preview(browser)
        with_rules = column(browser, "with")
        assert with_rules[0] == pin, with_rules
        assert pin not in column(browser, "without")
        rule_id = listed(browser)[0]
        marks = browser.execute_script(
            "return [...document.querySelectorAll('#with li .rule')].map(e => e.textContent)"
        )
        assert f" rule {rule_id}" in marks, marks
        assert hosts(browser) <= {demo["api"]}
        assert errors(browser) == []
        shot = tmp_path / "rules-console.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 20_000

        browser.find_element(By.CSS_SELECTOR, "#rules tbody button.delete").click()
        browser.switch_to.alert.accept()
        WebDriverWait(browser, 10).until(lambda b: listed(b) == [])
        assert browser.find_element(By.ID, "version").text != version
        assert errors(browser) == []
        shot.replace(DOCS / "rules-console.png")  # docs/rules.md's picture, never stale

    # the console's routes need the session: a request without it is refused
    refused = httpx.get(demo["dashboard"] + "/rules/list.json", timeout=10)
    assert refused.status_code == 401
    gone = httpx.post(
        demo["dashboard"] + "/rules/list.json", json={"name": "x", "then": {}}, timeout=10
    )
    assert gone.status_code == 401
