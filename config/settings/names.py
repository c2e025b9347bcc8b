"""The flat ``XSELL_*`` names of the nested settings, in one table.

Settings are nested by feature (``settings.redis.url``), but every flat name that existed
before the nesting keeps working, in the environment (``XSELL_REDIS_URL``), in the TOML file
(``redis_url = ...``) and as a keyword (``load_settings(redis_url=...)``): deployed
configurations must not break. This table is the only place that knows both spellings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

PREFIX = "XSELL_"

# group -> ((field, flat name), ...); a group's fields not listed use "<group>_<field>"
GROUPS: dict[str, tuple[tuple[str, str], ...]] = {
    "kafka": (
        ("brokers", "kafka_brokers"),
        ("app_id", "app_id"),
        ("topic_prefix", "topic_prefix"),
        ("topic_partitions", "topic_partitions"),
        ("topic_replication", "topic_replication"),
        ("session_timeout", "kafka_session_timeout"),
        ("heartbeat_interval", "kafka_heartbeat_interval"),
        ("max_poll_interval", "kafka_max_poll_interval"),
        ("commit_interval", "kafka_commit_interval"),
        ("fetch_max_wait_ms", "kafka_fetch_max_wait_ms"),
        ("security_protocol", "kafka_security_protocol"),
        ("sasl_mechanism", "kafka_sasl_mechanism"),
        ("sasl_username", "kafka_sasl_username"),
        ("sasl_password", "kafka_sasl_password"),
        ("ssl_ca_file", "kafka_ssl_ca_file"),
        ("ssl_cert_file", "kafka_ssl_cert_file"),
        ("ssl_key_file", "kafka_ssl_key_file"),
        ("startup_timeout_seconds", "kafka_startup_timeout_seconds"),
    ),
    "redis": (
        ("url", "redis_url"),
        ("cluster", "redis_cluster"),
        ("password", "redis_password"),
        ("username", "redis_username"),
        ("tls_ca_file", "redis_tls_ca_file"),
        ("tls_cert_file", "redis_tls_cert_file"),
        ("tls_key_file", "redis_tls_key_file"),
        ("key_namespace", "key_namespace"),
        ("retry_seconds", "redis_retry_seconds"),
    ),
    "learning": tuple(
        (f, f)
        for f in (
            "half_life_days",
            "cart_weight",
            "cart_ttl_seconds",
            "max_items_per_order",
            "max_cart_items",
            "co_add_window",
            "max_neighbors",
            "views_max_items",
            "views_ttl_seconds",
            "co_view_window",
            "co_view_window_seconds",
            "history_ttl_days",
            "max_history_items",
            "followed_window_days",
            "max_recent_items",
            "dedup_horizon_seconds",
            "dedup_retention_days",
            "dedup_window_seconds",
            "dedup_pending_seconds",
        )
    ),
    "ranking": tuple(
        (f, f)
        for f in (
            "max_suggestions",
            "similarity",
            "min_support",
            "popularity_prior",
            "category_backoff",
            "candidates_per_anchor",
            "max_anchors",
            "recency_decay",
            "exclude_upsell",
            "addon_price_ratio",
            "exclude_purchased",
            "consumable_categories",
            "repurchase_window_days",
            "popular_fallback",
            "followed_weight",
            "max_rebuys",
            "rebuy_min_share",
            "rebuy_min_rebuys",
            "rebuy_due_share",
        )
    ),
    "rules": (("max", "rules_max"), ("refresh_seconds", "rules_refresh_seconds")),
    "segments": (
        ("loyal_min_orders", "segment_loyal_min_orders"),
        ("low_spend_share", "segment_low_spend_share"),
        ("high_spend_share", "segment_high_spend_share"),
    ),
    "tuning": (
        ("enabled", "self_tuning"),
        ("recency", "tuning_recency"),
        ("category_backoff", "tuning_category_backoff"),
        ("similarity", "tuning_similarity"),
        ("popularity_prior", "tuning_popularity_prior"),
        ("max_rebuys", "tuning_max_rebuys"),
        ("sample", "tuning_sample"),
        ("half_life_cases", "tuning_half_life_cases"),
        ("z", "tuning_z"),
        ("min_cases", "tuning_min_cases"),
    ),
    "worker": tuple(
        (f, f)
        for f in (
            "batch_size",
            "batch_window",
            "metrics_host",
            "metrics_port",
            "suggestion_ttl_seconds",
            "minute_figures_retention_days",
        )
    ),
    "inputs": tuple(
        (f, f)
        for f in (
            "max_payload_bytes",
            "max_id_length",
            "max_order_lines",
            "max_name_length",
            "dead_letter_payload_chars",
        )
    ),
    "feedback": tuple(
        (f, f)
        for f in (
            "attribution",
            "attribution_window_seconds",
            "report_retention_days",
            "attribution_ledger_max_entries",
            "ab_holdout_percent",
            "experiment",
        )
    ),
    "notify": tuple(
        (f, f"notify_{f}")
        for f in (
            "channels",
            "default_consent",
            "abandon_seconds",
            "post_purchase_seconds",
            "ttl_seconds",
            "quiet_hours",
            "timezone",
            "caps",
            "repeat_days",
            "lease_seconds",
            "poll_seconds",
            "finished_retention_days",
            "recently_viewed",
            "replenish",
            "replenish_seconds",
            "replenish_max_wait_seconds",
        )
    ),
    "offers": tuple(
        (f, f)
        for f in (
            "bundle_discount_percent",
            "bundle_min_margin_percent",
            "bundle_loyalty_points",
            "bundle_min_support",
            "bundle_lift_prior",
            "bundle_candidates",
            "free_shipping_threshold",
            "free_shipping_max_gap",
        )
    ),
    "api": tuple(
        (f, f"api_{f}")
        for f in (
            "host",
            "port",
            "keys",
            "public_keys",
            "user_token_secret",
            "user_token_ttl_seconds",
            "cors_origins",
            "cache_seconds",
            "cache_entries",
            "stream_queue_size",
            "rank_batch_size",
            "guard_max_blocks",
            "keepalive_seconds",
            "read_deadline_seconds",
            "write_deadline_seconds",
            "secret_min_bytes",
            "secret_min_bits",
            "auth_failure_limit",
            "auth_failure_window_seconds",
            "dashboard_session_seconds",
            "frame_ancestors",
            "public_max_events",
            "public_events_per_second",
            "public_purchases",
        )
    ),
    "connect": (
        ("shopify_webhook_secret", "shopify_webhook_secret"),
        ("woocommerce_webhook_secret", "woocommerce_webhook_secret"),
        ("cart_ttl_seconds", "connect_cart_ttl_seconds"),
        ("feed_poll_seconds", "connect_feed_poll_seconds"),
        ("feed_timeout_seconds", "connect_feed_timeout_seconds"),
        ("feed_max_bytes", "connect_feed_max_bytes"),
    ),
    "ops": (("log_level", "log_level"), ("allow_unsafe", "allow_unsafe")),
}

# flat name -> (group, field), and back
FLAT: dict[str, tuple[str, str]] = {
    flat: (group, field) for group, pairs in GROUPS.items() for field, flat in pairs
}
NESTED: dict[tuple[str, str], str] = {where: flat for flat, where in FLAT.items()}


def env_name(group: str, field: str) -> str:
    """The documented environment variable of a setting (its flat name)."""
    return PREFIX + NESTED[(group, field)].upper()


def nested_env_name(group: str, field: str) -> str:
    """The nested spelling of the same variable (``XSELL_REDIS__URL``)."""
    return f"{PREFIX}{group.upper()}__{field.upper()}"


def nest(values: Mapping[str, Any]) -> dict[str, Any]:
    """Flat keys (``redis_url``) to nested ones (``{"redis": {"url": ...}}``); nested keys
    and unknown keys (which validation then rejects) pass through."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        where = FLAT.get(key)
        if where is None:
            if key in GROUPS and isinstance(value, Mapping):
                out.setdefault(key, {}).update(value)
            else:
                out[key] = value
        else:
            out.setdefault(where[0], {})[where[1]] = value
    return out


def where_text(loc: tuple[int | str, ...]) -> str:
    """An error location as the variable a user would fix: ``XSELL_REDIS_URL (redis.url)``."""
    if len(loc) >= 2 and (str(loc[0]), str(loc[1])) in NESTED:
        name = env_name(str(loc[0]), str(loc[1]))
        return f"{name} ({'.'.join(str(p) for p in loc)})"
    if len(loc) == 1 and str(loc[0]) in FLAT:
        return PREFIX + str(loc[0]).upper()
    return ".".join(str(p) for p in loc) or "settings"


def safe_errors(exc: ValidationError) -> str:
    """A ValidationError as one line per problem, naming the variable, without the rejected
    input values (which may be secrets)."""
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        lines.append(f"  {where_text(tuple(err['loc']))}: {err['msg']}")
    return "\n".join(lines)
