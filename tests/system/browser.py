"""A real headless Chromium (Debian's package, through its chromedriver) for the page tests,
with the flags that work here as root and on a machine with no outside network."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)


@contextmanager
def chromium(phone: tuple[int, int] | None = None) -> Iterator[webdriver.Chrome]:
    """A driven browser; fails (never skips) when Chromium is not installed (.ci/setup).
    ``phone=(width, height)``: Chromium's mobile emulation of a phone's screen (the page's
    viewport meta applies, touch, device pixel ratio 3). The console is kept: ``errors``."""
    if not (shutil.which(CHROMIUM) and shutil.which(DRIVER)):
        pytest.fail("chromium and chromium-driver are needed: bash .ci/setup installs them")
    profile = tempfile.mkdtemp(prefix="xsell-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if phone is not None:
        metrics = {"width": phone[0], "height": phone[1], "pixelRatio": 3.0, "touch": True}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def errors(driver: webdriver.Chrome) -> list[str]:
    """The console's errors since the last call: failed loads (a 404 favicon, a missing
    asset), script errors, CSP violations."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
