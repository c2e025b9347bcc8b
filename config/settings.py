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
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from models.errors import ConfigError
from models.events import Limits

Similarity = Literal["count", "jaccard", "lift", "confidence", "cosine", "asym_cosine"]
KafkaProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
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
    half_life_days: float = Field(30.0, ge=0, description="Forward-decay half-life; 0 = none.")
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
    similarity: Similarity = Field("asym_cosine", description="Pair similarity used to rank.")
    min_support: float = Field(1.0, ge=0, description="Minimum co-purchase weight of a pair.")
    candidates_per_anchor: int = Field(50, ge=1, le=1000, description="Neighbours read each.")
    max_anchors: int = Field(10, ge=1, le=500, description="Most recent cart items used.")
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
        tls_files = (self.redis_tls_ca_file, self.redis_tls_cert_file, self.redis_tls_key_file)
        if any(tls_files) and not self.redis_url.startswith("rediss://"):
            raise ValueError("redis_tls_* files need a rediss:// redis_url")
        if bool(self.redis_tls_cert_file) != bool(self.redis_tls_key_file):
            raise ValueError("redis_tls_cert_file and redis_tls_key_file go together")
        if self.redis_cluster and urlsplit(self.redis_url).path.strip("/") not in ("", "0"):
            raise ValueError("Redis Cluster has only database 0")
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and (not self.kafka_sasl_username or self.kafka_sasl_password is None):
            raise ValueError("SASL needs kafka_sasl_username and kafka_sasl_password")
        if not sasl and (self.kafka_sasl_username or self.kafka_sasl_password is not None):
            raise ValueError("kafka_sasl_* are set but kafka_security_protocol has no SASL")
        kafka_tls = (self.kafka_ssl_ca_file, self.kafka_ssl_cert_file, self.kafka_ssl_key_file)
        if any(kafka_tls) and not self.kafka_uses_tls:
            raise ValueError("kafka_ssl_* files need kafka_security_protocol SSL or SASL_SSL")
        if bool(self.kafka_ssl_cert_file) != bool(self.kafka_ssl_key_file):
            raise ValueError("kafka_ssl_cert_file and kafka_ssl_key_file go together")
        for name in (
            "redis_tls_ca_file",
            "redis_tls_cert_file",
            "redis_tls_key_file",
            "kafka_ssl_ca_file",
            "kafka_ssl_cert_file",
            "kafka_ssl_key_file",
        ):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                raise ValueError(f"{name}: no such file: {path}")

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
        remote = [h for h in self.broker_list if _host(h) not in LOOPBACK_HOSTS]
        if (
            remote
            and self.kafka_security_protocol == "SASL_PLAINTEXT"
            and self.kafka_sasl_mechanism == "PLAIN"
        ):
            reasons.append(f"SASL PLAIN password sent without TLS to Kafka at {remote[0]}")
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


def _host(hostport: str) -> str:
    """The host of ``host:port`` or ``[v6]:port``, without brackets."""
    host = hostport.rsplit(":", 1)[0]
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def load_settings(**overrides: Any) -> Settings:
    """Build and validate a fresh Settings (env + file + ``overrides``)."""
    return Settings(**overrides)


def require_safe(settings: Settings) -> None:
    """Refuse an obviously unsafe production setup unless ``allow_unsafe`` is set."""
    reasons = settings.unsafe_reasons()
    if reasons and not settings.allow_unsafe:
        raise ConfigError(
            "unsafe configuration: "
            + "; ".join(reasons)
            + " (set XSELL_ALLOW_UNSAFE=true to run anyway)"
        )
