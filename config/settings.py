"""The one settings object of xsell.

Precedence, highest first: explicit keyword arguments, ``XSELL_*`` environment variables,
the TOML file named by ``XSELL_CONFIG`` (or ``--config``), then the defaults below (which
``config/default.toml`` documents). Secrets are ``SecretStr`` or masked in URLs, so printing
or logging a ``Settings`` never shows them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from config.experiment import ExperimentSettings, experiment_of
from config.safety import (
    LOOPBACK_HOSTS,
    mask_url,
    require_safe,
    safe_errors,
    security_problem,
    unsafe_reasons,
)
from models.events import Limits
from models.experiments import Experiment
from models.notify_policy import Policy, parse_caps, parse_channels, parse_quiet_hours, zone

__all__ = ["Settings", "load_settings", "mask_url", "require_safe", "safe_errors"]

Similarity = Literal["count", "jaccard", "lift", "confidence", "cosine", "asym_cosine"]
KafkaProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class Settings(BaseSettings):
    """Every tunable of xsell. Field docs are the configuration reference (``xsell config``)."""

    # hide_input_in_errors: str(ValidationError) never echoes a value (it may be a secret)
    model_config = SettingsConfigDict(
        env_prefix="XSELL_", extra="forbid", frozen=True, hide_input_in_errors=True
    )

    # --- connections -------------------------------------------------------------------
    kafka_brokers: str = Field("127.0.0.1:9092", description="Comma-separated host:port list.")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="redis:// or rediss:// URL.")
    redis_cluster: bool = Field(False, description="Use the Redis Cluster client.")
    redis_password: SecretStr | None = Field(None, description="Overrides the URL's password.")
    topic_prefix: str = Field("xsell.", description="Prefix of every topic name.")
    topic_partitions: int = Field(4, ge=1, le=1024, description="Partitions per created topic.")
    topic_replication: int = Field(1, ge=1, le=16, description="Replication factor on create.")
    app_id: str = Field("xsell", description="Kafka consumer group id of the workers.")
    kafka_session_timeout: float = Field(6.0, gt=0, description="Seconds.")
    kafka_heartbeat_interval: float = Field(1.0, gt=0, description="Seconds.")
    kafka_max_poll_interval: float = Field(300.0, gt=0, description="Seconds; keep high.")
    kafka_commit_interval: float = Field(1.0, gt=0, description="Seconds between commits.")
    key_namespace: str = Field("xs", description="Prefix of every Redis key.")

    # --- security (docs/security.md) ---------------------------------------------------
    redis_username: str | None = Field(None, description="Redis ACL user; overrides the URL's.")
    redis_tls_ca_file: str | None = Field(None, description="CA file verifying Redis (rediss).")
    redis_tls_cert_file: str | None = Field(None, description="Client certificate for Redis.")
    redis_tls_key_file: str | None = Field(None, description="Key of that client certificate.")
    kafka_security_protocol: KafkaProtocol = Field(
        "PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_mechanism: SaslMechanism = Field(
        "PLAIN", description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password (secret).")
    kafka_ssl_ca_file: str | None = Field(None, description="CA file verifying the brokers.")
    kafka_ssl_cert_file: str | None = Field(None, description="Client certificate for Kafka.")
    kafka_ssl_key_file: str | None = Field(None, description="Key of that client certificate.")

    # --- learning ------------------------------------------------------------------------
    half_life_days: float = Field(0.0, ge=0, description="Forward-decay half-life; 0 = none.")
    cart_weight: float = Field(0.25, ge=0, description="Weight of an add-to-cart co-add.")
    cart_ttl_seconds: int = Field(7 * 86400, gt=0, description="Idle cart lifetime.")
    max_items_per_order: int = Field(50, ge=2, le=1000, description="Items used for pairs.")
    max_cart_items: int = Field(100, ge=2, le=10000, description="Cart keeps the newest N.")
    co_add_window: int = Field(
        10, ge=1, le=999, description="Newest cart items an add-to-cart pairs with."
    )
    max_order_lines: int = Field(1000, ge=1, description="Larger orders go to dead letter.")
    max_neighbors: int = Field(200, ge=0, description="Neighbours kept per item; 0 = all.")
    dedup_retention_days: float = Field(400, gt=0, description="How long event ids are kept.")
    dedup_window_seconds: int = Field(
        3600, gt=0, description="Partial-apply guard (popularity; per item on a cluster)."
    )

    # --- ranking -------------------------------------------------------------------------
    max_suggestions: int = Field(3, ge=1, le=50, description="Offers per suggestion message.")
    similarity: Similarity = Field("confidence", description="Pair similarity used to rank.")
    min_support: float = Field(
        0.0, ge=0, description="Minimum decayed co-purchase + co-add weight of a pair."
    )
    popularity_prior: float = Field(
        1.0,
        ge=0,
        description="Prior orders per anchor toward popularity (n / (n + m)); 0 = none.",
    )
    candidates_per_anchor: int = Field(50, ge=1, le=1000, description="Neighbours read each.")
    max_anchors: int = Field(10, ge=1, le=500, description="Most recent cart items used.")
    recency_decay: float = Field(0.5, gt=0, le=1, description="Anchor weight per step back.")
    exclude_upsell: bool = Field(True, description="Drop same-category pricier items.")
    addon_price_ratio: float = Field(0.0, ge=0, description="If > 0: price <= ratio x anchor.")
    exclude_purchased: bool = Field(True, description="Never suggest what the user bought.")
    consumable_categories: tuple[str, ...] = Field((), description="Re-suggest after window.")
    repurchase_window_days: float = Field(30.0, ge=0, description="For consumable categories.")
    popular_fallback: bool = Field(True, description="Pad with popular items, kind=popular.")

    # --- self-tuning (models/tuning.py) --------------------------------------------------
    self_tuning: bool = Field(True, description="Rank with the best candidate, tested live.")
    tuning_recency: str = Field(
        "0.5,0.75,1.0", description="Candidate recency weights (comma-separated, in (0, 1])."
    )
    tuning_sample: float = Field(
        0.25, gt=0, le=1, description="Share of shoppers whose adds are test cases."
    )
    tuning_half_life_cases: float = Field(
        5000.0, ge=0, description="Test cases after which one counts half; 0 = never fades."
    )
    tuning_z: float = Field(
        2.0, ge=0, description="Standard errors of paired lead a challenger needs (damping)."
    )
    tuning_min_cases: float = Field(
        200.0, ge=0, description="Decayed test cases before any switch."
    )

    # --- worker --------------------------------------------------------------------------
    batch_size: int = Field(200, ge=1, le=10000, description="Events per micro-batch.")
    batch_window: float = Field(0.02, gt=0, description="Seconds to wait to fill a batch.")
    max_payload_bytes: int = Field(1 << 20, ge=256, description="Larger payloads: dead letter.")
    max_id_length: int = Field(128, ge=1, le=1024, description="Longest accepted id.")
    redis_retry_seconds: float = Field(0.0, ge=0, description="Give up after; 0 = never.")
    kafka_fetch_max_wait_ms: int = Field(
        500, ge=1, le=10000, description="Longest wait of a Kafka fetch with no records (ms)."
    )
    metrics_host: str = Field("127.0.0.1", description="Address of the worker's metrics.")
    metrics_port: int = Field(0, ge=0, le=65535, description="Worker's Prometheus port; 0 = off.")
    suggestion_ttl_seconds: int = Field(
        7 * 86400, gt=0, description="How long a user's latest suggestion is kept."
    )

    # --- feedback, attribution, experiments (docs/contract.md) -----------------------------
    attribution: bool = Field(True, description="Attribute cart adds and orders to offers.")
    attribution_window_seconds: int = Field(
        86400, gt=0, description="An offer is credited within this after it was made."
    )
    ab_holdout_percent: float = Field(
        0.0, ge=0, le=100, description="Share of users in the control holdout (no offers)."
    )
    experiment: ExperimentSettings | None = Field(
        None, description="Name, salt and variants (TOML [experiment]); none = one variant."
    )

    # --- notifications: cart abandonment, post-purchase (docs/contract.md) ------------------
    notify_channels: str = Field(
        "push,email,sms,zalo", description="Channels in order of preference; empty = off."
    )
    notify_default_consent: str = Field(
        "", description="Channels consented to without an explicit answer; empty = none."
    )
    notify_abandon_seconds: float = Field(
        3600.0, gt=0, description="A cart is abandoned this long after its last activity."
    )
    notify_post_purchase_seconds: float = Field(
        86400.0, gt=0, description="The post-purchase notification is due this after the order."
    )
    notify_ttl_seconds: float = Field(
        86400.0, gt=0, description="Dropped when it cannot go out this long after its due time."
    )
    notify_quiet_hours: str = Field(
        "21:00-08:00", description="HH:MM-HH:MM on the user's clock; empty = none."
    )
    notify_timezone: str = Field("UTC", description="IANA zone of users without one.")
    notify_caps: str = Field(
        "push=1/86400,email=1/57600,sms=1/86400,zalo=1/86400",
        description="At most N per rolling S seconds per user and channel: CHANNEL=N/S,...",
    )
    notify_repeat_days: float = Field(
        30.0, ge=0, description="An item is not notified to the same user again within this."
    )
    notify_lease_seconds: float = Field(
        30.0, gt=0, le=3600, description="A claimed notification is taken over after this."
    )
    notify_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="How often a worker looks for due notifications."
    )

    # --- HTTP API: xsell api (docs/contract.md) --------------------------------------------
    api_host: str = Field("127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(8080, ge=1, le=65535, description="Port the API listens on.")
    api_keys: SecretStr | None = Field(None, description="Secret API keys, comma-separated.")
    api_public_keys: str = Field("", description="Storefront-safe keys, comma-separated.")
    api_user_token_secret: SecretStr | None = Field(
        None, description="Signs the user tokens of public keys."
    )
    api_user_token_ttl_seconds: int = Field(
        86400, gt=0, description="Default lifetime of `xsell api token`."
    )
    api_cors_origins: str = Field("", description="Allowed browser origins, comma-separated.")
    api_cache_seconds: float = Field(
        1.0, ge=0, le=60, description="Anonymous complements reused this long; 0 = off."
    )
    api_keepalive_seconds: float = Field(
        15.0, gt=0, le=15.0, description="Comment sent on a quiet stream at least this often."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    allow_unsafe: bool = Field(False, description="Run despite unsafe_reasons() (security.md).")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get("XSELL_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path:
            if not Path(path).is_file():
                raise FileNotFoundError(f"XSELL_CONFIG={path!r}: no such file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @field_validator("topic_prefix", "key_namespace", "app_id")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if any(c in value for c in "{}* \t\r\n"):
            raise ValueError("must not contain braces, '*' or whitespace")
        return value

    @field_validator("kafka_brokers")
    @classmethod
    def _brokers(cls, value: str) -> str:
        hosts = [h.strip() for h in value.split(",") if h.strip()]
        if not hosts or any(":" not in h for h in hosts):
            raise ValueError("expected host:port[,host:port...]")
        return ",".join(hosts)

    @field_validator("notify_channels", "notify_default_consent")
    @classmethod
    def _notify_channels(cls, value: str) -> str:
        return ",".join(parse_channels(value))

    @field_validator("tuning_recency")
    @classmethod
    def _tuning_recency(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        try:
            weights = [float(p) for p in parts]
        except ValueError:
            raise ValueError("expected numbers, comma-separated (e.g. 0.5,0.75,1.0)") from None
        if not weights or any(not 0 < w <= 1 for w in weights):
            raise ValueError("expected one or more weights in (0, 1]")
        return ",".join(parts)

    @property
    def tuning_recency_decays(self) -> tuple[float, ...]:
        """The candidate recency weights of self-tuning, as numbers."""
        return tuple(float(p) for p in self.tuning_recency.split(","))

    @field_validator("notify_caps")
    @classmethod
    def _notify_caps(cls, value: str) -> str:
        parse_caps(value)
        return value

    @field_validator("notify_quiet_hours")
    @classmethod
    def _notify_quiet(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value.strip()

    @field_validator("notify_timezone")
    @classmethod
    def _notify_zone(cls, value: str) -> str:
        if zone(value) is None:
            raise ValueError("not an IANA time zone name (e.g. Asia/Ho_Chi_Minh)")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        if self.kafka_heartbeat_interval >= self.kafka_session_timeout:
            raise ValueError("kafka_heartbeat_interval must be below kafka_session_timeout")
        if not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url must start with redis://, rediss:// or unix://")
        try:
            _ = urlsplit(self.redis_url).port
        except ValueError:
            raise ValueError("redis_url has an invalid port") from None
        self._check_security()
        return self

    def _check_security(self) -> None:
        """Security settings that cannot work together fail at start, not at first use."""
        problem = security_problem(self)
        if problem:
            raise ValueError(problem)

    # --- derived -------------------------------------------------------------------------
    def topic(self, name: str) -> str:
        """Full topic name for a logical name (``orders`` -> ``xsell.orders``)."""
        return f"{self.topic_prefix}{name}"

    @property
    def broker_list(self) -> list[str]:
        return self.kafka_brokers.split(",")

    @property
    def kafka_uses_tls(self) -> bool:
        return self.kafka_security_protocol in ("SSL", "SASL_SSL")

    @property
    def limits(self) -> Limits:
        """The input limits every parser of records (worker, CSV, API) applies."""
        return Limits(self.max_id_length, self.max_order_lines, self.max_payload_bytes)

    @property
    def running_experiment(self) -> Experiment:
        """The experiment users are assigned in (a single ``default`` variant if none)."""
        return experiment_of(self.experiment, self.ab_holdout_percent)

    @property
    def api_key_set(self) -> frozenset[str]:
        """The secret API keys."""
        raw = "" if self.api_keys is None else self.api_keys.get_secret_value()
        return _comma_set(raw)

    @property
    def api_public_key_set(self) -> frozenset[str]:
        """The public (storefront) API keys."""
        return _comma_set(self.api_public_keys)

    @property
    def cors_origin_list(self) -> list[str]:
        return sorted(_comma_set(self.api_cors_origins))

    @property
    def notify_policy(self) -> Policy:
        """The notification policy (models/notify_policy.py) of these settings."""
        return Policy(
            channels=parse_channels(self.notify_channels),
            default_consent=frozenset(parse_channels(self.notify_default_consent)),
            abandon_seconds=self.notify_abandon_seconds,
            post_purchase_seconds=self.notify_post_purchase_seconds,
            ttl_seconds=self.notify_ttl_seconds,
            quiet=parse_quiet_hours(self.notify_quiet_hours),
            timezone=self.notify_timezone,
            caps=parse_caps(self.notify_caps),
            repeat_seconds=self.notify_repeat_days * 86400.0,
        )

    @property
    def half_life_seconds(self) -> float:
        return self.half_life_days * 86400.0

    def redis_is_loopback(self) -> bool:
        return (urlsplit(self.redis_url).hostname or "") in LOOPBACK_HOSTS

    def unsafe_reasons(self) -> list[str]:
        """Production-safety problems of this configuration (empty when fine)."""
        return unsafe_reasons(self)

    def masked(self) -> dict[str, Any]:
        """All settings as a dict that is safe to print or log."""
        data = self.model_dump()
        data["redis_url"] = mask_url(self.redis_url)
        for key, value in data.items():
            if isinstance(value, SecretStr) or (key.endswith("password") and value is not None):
                data[key] = "***"
        return data

    def __repr_args__(self) -> Any:  # keeps repr()/str() free of secrets
        return list(self.masked().items())


def _comma_set(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def load_settings(**overrides: Any) -> Settings:
    """Build and validate a fresh Settings (env + file + ``overrides``)."""
    return Settings(**overrides)
