"""Where xsell connects: Kafka (brokers, topics, consumer group, SASL/TLS) and Redis (URL,
ACL user, TLS, key namespace). Security settings live beside the connection they secure."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_serializer, field_validator, model_validator

from xsell.config.safety import LOOPBACK_HOSTS
from xsell.config.settings.base import Group, comma_items, safe_name

KafkaProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSettings(Group):
    """The Kafka cluster, the topics and the workers' consumer group."""

    brokers: tuple[str, ...] = Field(
        ("127.0.0.1:9092",), description="Comma-separated host:port list."
    )
    app_id: str = Field("xsell", description="Kafka consumer group id of the workers.")
    topic_prefix: str = Field("xsell.", description="Prefix of every topic name.")
    topic_partitions: int = Field(4, ge=1, le=1024, description="Partitions per created topic.")
    topic_replication: int = Field(1, ge=1, le=16, description="Replication factor on create.")
    session_timeout: float = Field(6.0, gt=0, description="Seconds.")
    heartbeat_interval: float = Field(1.0, gt=0, description="Seconds.")
    max_poll_interval: float = Field(300.0, gt=0, description="Seconds; keep high.")
    commit_interval: float = Field(1.0, gt=0, description="Seconds between commits.")
    fetch_max_wait_ms: int = Field(
        500, ge=1, le=10000, description="Longest wait of a Kafka fetch with no records (ms)."
    )
    security_protocol: KafkaProtocol = Field(
        "PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    sasl_mechanism: SaslMechanism = Field(
        "PLAIN", description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512."
    )
    sasl_username: str | None = Field(None, description="SASL user name.")
    sasl_password: SecretStr | None = Field(None, description="SASL password (secret).")
    ssl_ca_file: str | None = Field(None, description="CA file verifying the brokers.")
    ssl_cert_file: str | None = Field(None, description="Client certificate for Kafka.")
    ssl_key_file: str | None = Field(None, description="Key of that client certificate.")
    startup_timeout_seconds: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="How long the worker, the API and `xsell topics` wait for a broker at start.",
    )

    @field_validator("brokers", mode="before")
    @classmethod
    def _brokers(cls, value: Any) -> tuple[str, ...]:
        hosts = comma_items(value)
        if not hosts or any(":" not in h for h in hosts):
            raise ValueError("expected host:port[,host:port...]")
        return hosts

    @field_serializer("brokers")
    def _brokers_text(self, value: tuple[str, ...]) -> str:
        return ",".join(value)

    @field_validator("topic_prefix", "app_id")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        return safe_name(value)

    @model_validator(mode="after")
    def _coherent(self) -> KafkaSettings:
        if self.heartbeat_interval >= self.session_timeout:
            raise ValueError("kafka_heartbeat_interval must be below kafka_session_timeout")
        return self

    @property
    def servers(self) -> str:
        """The brokers as one ``host:port,host:port`` text (clients' bootstrap servers)."""
        return ",".join(self.brokers)

    @property
    def broker_list(self) -> list[str]:
        return list(self.brokers)

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")


class RedisSettings(Group):
    """The Redis (or Redis Cluster) that holds all state, and how to reach it safely."""

    url: str = Field("redis://127.0.0.1:6379/0", description="redis:// or rediss:// URL.")
    cluster: bool = Field(False, description="Use the Redis Cluster client.")
    password: SecretStr | None = Field(None, description="Overrides the URL's password.")
    username: str | None = Field(None, description="Redis ACL user; overrides the URL's.")
    tls_ca_file: str | None = Field(None, description="CA file verifying Redis (rediss).")
    tls_cert_file: str | None = Field(None, description="Client certificate for Redis.")
    tls_key_file: str | None = Field(None, description="Key of that client certificate.")
    key_namespace: str = Field("xs", description="Prefix of every Redis key.")
    retry_seconds: float = Field(0.0, ge=0, description="Give up after; 0 = never.")

    @field_validator("key_namespace")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        return safe_name(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url must start with redis://, rediss:// or unix://")
        try:
            _ = urlsplit(value).port
        except ValueError:
            raise ValueError("redis_url has an invalid port") from None
        return value

    def is_loopback(self) -> bool:
        return (urlsplit(self.url).hostname or "") in LOOPBACK_HOSTS
