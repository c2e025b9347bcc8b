"""The shop-platform connectors (docs/integrations.md): each webhook's signing secret, and how
long the Shopify connector remembers a cart to turn the next version into add/remove events,
how often ``xsell catalog load --watch`` checks its feed, and how long and large a feed URL
may be."""

from __future__ import annotations

from pydantic import Field, SecretStr

from xsell.config.settings.base import Group


class ConnectSettings(Group):
    """``POST /v1/connect/shopify`` and ``/v1/connect/woocommerce``: unset secret = route off."""

    shopify_webhook_secret: SecretStr | None = Field(
        None, description="Shopify app secret signing webhooks; unset = connector off (404)."
    )
    woocommerce_webhook_secret: SecretStr | None = Field(
        None, description="WooCommerce webhook secret; unset = connector off (404)."
    )
    cart_ttl_seconds: int = Field(
        1_209_600,
        ge=60,
        le=31_536_000,
        description="A Shopify cart's last version is kept this long (add/remove diffs).",
    )
    feed_poll_seconds: float = Field(
        60.0,
        ge=0.1,
        le=86_400,
        description="`xsell catalog load --watch`: the feed file is checked this often.",
    )

    feed_timeout_seconds: float = Field(
        30.0,
        ge=1,
        le=600,
        description="`xsell catalog load URL`: how long a feed URL may take to answer.",
    )
    feed_max_bytes: int = Field(
        268_435_456,
        ge=1024,
        le=4_294_967_296,
        description="`xsell catalog load URL`: the largest feed body read (bytes).",
    )

    def secret_of(self, platform: str) -> str | None:
        """The webhook secret of ``platform`` (``shopify``, ``woocommerce``), None if unset."""
        value = {
            "shopify": self.shopify_webhook_secret,
            "woocommerce": self.woocommerce_webhook_secret,
        }.get(platform)
        return None if value is None else value.get_secret_value()
