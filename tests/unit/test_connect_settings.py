"""The connectors' settings: webhook secrets masked, weak ones refused at start, unset = off."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.unit.settings_env import clean_env
from xsell.config.settings import load_settings
from xsell.config.strength import new_secret

pytestmark = pytest.mark.usefixtures(clean_env.__name__)


def test_unset_secrets_turn_the_connectors_off() -> None:
    connect = load_settings().connect
    assert connect.secret_of("shopify") is None and connect.secret_of("woocommerce") is None
    assert connect.cart_ttl_seconds == 1_209_600


def test_secrets_are_masked_and_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    shop, woo = new_secret(), new_secret()
    monkeypatch.setenv("XSELL_SHOPIFY_WEBHOOK_SECRET", shop)
    monkeypatch.setenv("XSELL_CONNECT__WOOCOMMERCE_WEBHOOK_SECRET", woo)  # nested spelling
    settings = load_settings()
    assert settings.connect.secret_of("shopify") == shop
    assert settings.connect.secret_of("woocommerce") == woo
    assert shop not in repr(settings) and woo not in str(settings.masked())
    assert settings.masked()["connect"]["shopify_webhook_secret"] == "***"
    assert shop in settings.secret_values()  # so the logs redact it too


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "is empty"),
        ("short-but-random-9f2", "is shorter than 32 bytes"),
        ("my-shopify-webhook-secret-changeme-0123", "is a placeholder"),
        ("abcdefgh" * 5, "has too little entropy"),
    ],
)
def test_a_weak_secret_refuses_start(value: str, why: str) -> None:
    with pytest.raises(ValidationError, match=f"XSELL_WOOCOMMERCE_WEBHOOK_SECRET {why}"):
        load_settings(woocommerce_webhook_secret=value)
    with pytest.raises(ValidationError, match=f"XSELL_SHOPIFY_WEBHOOK_SECRET {why}"):
        load_settings(shopify_webhook_secret=value)


def test_the_cart_ttl_is_bounded() -> None:
    assert load_settings(connect_cart_ttl_seconds=60).connect.cart_ttl_seconds == 60
    for bad in (59, 31_536_001):
        with pytest.raises(ValidationError):
            load_settings(connect_cart_ttl_seconds=bad)
