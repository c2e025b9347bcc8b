"""The one settings object of xsell.

Precedence, highest first: explicit keyword arguments, ``XSELL_*`` environment variables,
the TOML file named by ``XSELL_CONFIG`` (or ``--config``), then the defaults below (which
``config/default.toml`` documents). Secrets are ``SecretStr`` or masked in URLs, so printing
or logging a ``Settings`` never shows them.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

Similarity = Literal["count", "jaccard", "lift", "confidence", "cosine", "asym_cosine"]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", ""})


def mask_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (safe to log; never raises)."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


def safe_errors(exc: ValidationError) -> str:
    """A ValidationError as text without the rejected input values (which may be secrets)."""
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


class Settings(BaseSettings):
    """Every tunable of xsell. Field docs are the configuration reference (``xsell config``)."""

    model_config = SettingsConfigDict(env_prefix="XSELL_", extra="forbid", frozen=True)

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

    # --- learning ------------------------------------------------------------------------
    half_life_days: float = Field(30.0, ge=0, description="Forward-decay half-life; 0 = none.")
    cart_weight: float = Field(0.25, ge=0, description="Weight of an add-to-cart co-add.")
    cart_ttl_seconds: int = Field(7 * 86400, gt=0, description="Idle cart lifetime.")
    max_items_per_order: int = Field(50, ge=2, le=1000, description="Items used for pairs.")
    max_order_lines: int = Field(1000, ge=1, description="Larger orders go to dead letter.")
    max_neighbors: int = Field(200, ge=0, description="Neighbours kept per item; 0 = all.")
    dedup_retention_days: float = Field(400, gt=0, description="How long event ids are kept.")
    dedup_window_seconds: int = Field(3600, gt=0, description="Per-item partial-apply guard.")

    # --- ranking -------------------------------------------------------------------------
    max_suggestions: int = Field(3, ge=1, le=50, description="Offers per suggestion message.")
    similarity: Similarity = Field("asym_cosine", description="Pair similarity used to rank.")
    min_support: float = Field(1.0, ge=0, description="Minimum co-purchase weight of a pair.")
    candidates_per_anchor: int = Field(50, ge=1, le=1000, description="Neighbours read each.")
    max_anchors: int = Field(20, ge=1, le=500, description="Most recent cart items used.")
    recency_decay: float = Field(0.5, gt=0, le=1, description="Anchor weight per step back.")
    exclude_upsell: bool = Field(True, description="Drop same-category pricier items.")
    addon_price_ratio: float = Field(0.0, ge=0, description="If > 0: price <= ratio x anchor.")
    exclude_purchased: bool = Field(True, description="Never suggest what the user bought.")
    consumable_categories: tuple[str, ...] = Field((), description="Re-suggest after window.")
    repurchase_window_days: float = Field(30.0, ge=0, description="For consumable categories.")
    popular_fallback: bool = Field(True, description="Pad with popular items, kind=popular.")

    # --- worker --------------------------------------------------------------------------
    batch_size: int = Field(200, ge=1, le=10000, description="Events per micro-batch.")
    batch_window: float = Field(0.02, gt=0, description="Seconds to wait to fill a batch.")
    max_payload_bytes: int = Field(1 << 20, ge=256, description="Larger payloads: dead letter.")
    max_id_length: int = Field(128, ge=1, le=1024, description="Longest accepted id.")
    redis_retry_seconds: float = Field(0.0, ge=0, description="Give up after; 0 = never.")
    log_level: str = Field("INFO", description="Python logging level.")
    allow_unsafe: bool = Field(False, description="Allow a password-less non-loopback Redis.")

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
        return self

    # --- derived -------------------------------------------------------------------------
    def topic(self, name: str) -> str:
        """Full topic name for a logical name (``orders`` -> ``xsell.orders``)."""
        return f"{self.topic_prefix}{name}"

    @property
    def broker_list(self) -> list[str]:
        return self.kafka_brokers.split(",")

    @property
    def half_life_seconds(self) -> float:
        return self.half_life_days * 86400.0

    def redis_is_loopback(self) -> bool:
        return (urlsplit(self.redis_url).hostname or "") in LOOPBACK_HOSTS

    def unsafe_reasons(self) -> list[str]:
        """Production-safety problems of this configuration (empty when fine)."""
        reasons = []
        parts = urlsplit(self.redis_url)
        has_password = parts.password is not None or self.redis_password is not None
        if not self.redis_is_loopback() and not has_password:
            reasons.append(f"Redis at {parts.hostname} without a password")
        return reasons

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


def load_settings(**overrides: Any) -> Settings:
    """Build and validate a fresh Settings (env + file + ``overrides``)."""
    return Settings(**overrides)


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide Settings, built once on first use."""
    return load_settings()
