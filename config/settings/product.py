"""The product's outer rooms: feedback and experiments, notifications, the HTTP API, and the
operational switches (logging, the unsafe override)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, SecretStr, field_serializer, field_validator

from xsell.config.experiment import ExperimentSettings
from xsell.config.settings.base import Group, comma_items
from xsell.models.notify_policy import (
    CHANNELS,
    Cap,
    Policy,
    QuietHours,
    parse_caps,
    parse_channels,
    parse_quiet_hours,
    zone,
)

DEFAULT_CAPS = "push=1/86400,email=1/57600,sms=1/86400,zalo=1/86400"


class FeedbackSettings(Group):
    """Attribution of cart adds and orders to offers, and the A/B experiment."""

    attribution: bool = Field(True, description="Attribute cart adds and orders to offers.")
    attribution_window_seconds: int = Field(
        86400, gt=0, description="An offer is credited within this after it was made."
    )
    report_retention_days: int = Field(
        400, ge=1, le=3650, description="Days the report's daily counters are kept."
    )
    attribution_ledger_max_entries: int = Field(
        5000, ge=100, le=1_000_000, description="A user's ledger keeps the newest N entries."
    )
    ab_holdout_percent: float = Field(
        0.0, ge=0, le=100, description="Share of users in the control holdout (no offers)."
    )
    experiment: ExperimentSettings | None = Field(
        None, description="Name, salt and variants (TOML [experiment]); none = one variant."
    )


class NotifySettings(Group):
    """Cart-abandonment, post-purchase and replenishment notifications
    (docs/contract.md#notifications)."""

    channels: tuple[str, ...] = Field(
        CHANNELS, description="Channels in order of preference; empty = off."
    )
    default_consent: tuple[str, ...] = Field(
        (), description="Channels consented to without an explicit answer; empty = none."
    )
    abandon_seconds: float = Field(
        3600.0, gt=0, description="A cart is abandoned this long after its last activity."
    )
    post_purchase_seconds: float = Field(
        86400.0, gt=0, description="The post-purchase notification is due this after the order."
    )
    ttl_seconds: float = Field(
        86400.0, gt=0, description="Dropped when it cannot go out this long after its due time."
    )
    quiet_hours: QuietHours | None = Field(
        QuietHours(21 * 60, 8 * 60), description="HH:MM-HH:MM on the user's clock; empty = none."
    )
    timezone: str = Field("UTC", description="IANA zone of users without one.")
    caps: dict[str, Cap] = Field(
        default_factory=lambda: parse_caps(DEFAULT_CAPS),
        description="At most N per rolling S seconds per user and channel: CHANNEL=N/S,...",
    )
    repeat_days: float = Field(
        30.0, ge=0, description="An item is not notified to the same user again within this."
    )
    lease_seconds: float = Field(
        30.0, gt=0, le=3600, description="A claimed notification is taken over after this."
    )
    poll_seconds: float = Field(
        1.0, gt=0, le=60, description="How often a worker looks for due notifications."
    )
    finished_retention_days: float = Field(
        30.0,
        gt=0,
        le=400,
        description="Ids of sent or dropped notifications are kept this long (redelivery).",
    )
    recently_viewed: int = Field(
        5,
        ge=0,
        le=50,
        description="Recently viewed items (not in the cart) a cart_abandoned notification "
        "lists; 0 = none.",
    )
    replenish: bool = Field(
        False,
        description="Replenishment notifications: an order schedules a look-in that offers the "
        "user's due rebuys (buy again); off = none.",
    )
    replenish_seconds: float = Field(
        7 * 86400.0,
        gt=0,
        le=366 * 86400,
        description="The replenishment notification is due this long after the user's last order.",
    )
    replenish_max_wait_seconds: float = Field(
        60 * 86400.0,
        ge=0,
        le=366 * 86400,
        description="A replenishment look-in with nothing due yet waits for the user's next "
        "due item when it is at most this far away; farther (or 0): dropped (not_due).",
    )

    @field_validator("channels", "default_consent", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> tuple[str, ...]:
        return parse_channels(",".join(comma_items(value)))

    @field_serializer("channels", "default_consent")
    def _channels_text(self, value: tuple[str, ...]) -> str:
        return ",".join(value)

    @field_validator("quiet_hours", mode="plain")
    @classmethod
    def _quiet(cls, value: Any) -> QuietHours | None:
        if value is None or isinstance(value, QuietHours):
            return value
        if not isinstance(value, str):
            raise ValueError("expected HH:MM-HH:MM")
        return parse_quiet_hours(value)

    @field_serializer("quiet_hours")
    def _quiet_text(self, value: QuietHours | None) -> str:
        if value is None:
            return ""
        return f"{_clock(value.start)}-{_clock(value.end)}"

    @field_validator("caps", mode="plain")
    @classmethod
    def _caps(cls, value: Any) -> dict[str, Cap]:
        if isinstance(value, Mapping) and all(isinstance(c, Cap) for c in value.values()):
            return dict(value)
        if not isinstance(value, str):
            raise ValueError("expected CHANNEL=N/SECONDS,...")
        return parse_caps(value)

    @field_serializer("caps")
    def _caps_text(self, value: dict[str, Cap]) -> str:
        return ",".join(f"{name}={cap.count}/{cap.seconds:g}" for name, cap in value.items())

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if zone(value) is None:
            raise ValueError("not an IANA time zone name (e.g. Asia/Ho_Chi_Minh)")
        return value

    @property
    def policy(self) -> Policy:
        """The notification policy (models/notify_policy.py) of these settings."""
        return Policy(
            channels=self.channels,
            default_consent=frozenset(self.default_consent),
            abandon_seconds=self.abandon_seconds,
            post_purchase_seconds=self.post_purchase_seconds,
            replenish_seconds=self.replenish_seconds,
            ttl_seconds=self.ttl_seconds,
            quiet=self.quiet_hours,
            timezone=self.timezone,
            caps=dict(self.caps),
            repeat_seconds=self.repeat_days * 86400.0,
        )


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class ApiSettings(Group):
    """``xsell api``: where it listens, its keys and tokens, CORS, caching, the live push."""

    host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(8080, ge=1, le=65535, description="Port the API listens on.")
    keys: SecretStr | None = Field(None, description="Secret API keys, comma-separated.")
    public_keys: frozenset[str] = Field(
        frozenset(), description="Storefront-safe keys, comma-separated."
    )
    user_token_secret: SecretStr | None = Field(
        None, description="Signs the user tokens of public keys."
    )
    user_token_ttl_seconds: int = Field(
        86400, gt=0, description="Default lifetime of `xsell api token`."
    )
    cors_origins: tuple[str, ...] = Field(
        (), description="Allowed browser origins, comma-separated."
    )
    cache_seconds: float = Field(
        1.0, ge=0, le=60, description="Anonymous complements reused this long; 0 = off."
    )
    cache_entries: int = Field(
        20_000, ge=1, le=10_000_000, description="Anonymous complements cached per process."
    )
    stream_queue_size: int = Field(
        32,
        ge=1,
        le=10_000,
        description="Messages queued per open stream; a slow page loses the oldest.",
    )
    rank_batch_size: int = Field(
        256, ge=1, le=10_000, description="Ranked queries sent to Redis together."
    )
    guard_max_blocks: int = Field(
        100_000, ge=1, le=10_000_000, description="Blocked clients a process remembers."
    )
    keepalive_seconds: float = Field(
        15.0, gt=0, le=15.0, description="Comment sent on a quiet stream at least this often."
    )
    read_deadline_seconds: float = Field(
        0.5, gt=0, le=60, description="A GET that takes longer gets a 503 with Retry-After."
    )
    write_deadline_seconds: float = Field(
        2.0, gt=0, le=60, description="A POST that takes longer gets a 503 with Retry-After."
    )
    secret_min_bytes: int = Field(
        32, ge=32, description="Shortest API key or token secret accepted, in bytes."
    )
    secret_min_bits: float = Field(
        80.0, ge=80.0, description="Least estimated entropy of a key or secret (security.md)."
    )
    auth_failure_limit: int = Field(
        20, ge=1, description="Failed sign-ins per address or key prefix per window; then 429."
    )
    auth_failure_window_seconds: int = Field(
        60, ge=1, le=86400, description="Window of api_auth_failure_limit, in seconds."
    )
    dashboard_session_seconds: int = Field(
        43200, ge=60, le=2592000, description="Lifetime of a dashboard sign-in."
    )
    frame_ancestors: str = Field(
        "'none'", description="CSP frame-ancestors: who may embed the dashboard in a frame."
    )
    public_max_events: int = Field(
        500, ge=1, description="Events in one POST /v1/events with a public key; then 413."
    )
    public_events_per_second: int = Field(
        1000, ge=1, description="Events per second per public key (all API processes); then 429."
    )
    public_purchases: bool = Field(
        False, description="A public key (with the user's token) may post purchase events too."
    )

    @field_validator("frame_ancestors")
    @classmethod
    def _ancestors(cls, value: str) -> str:
        if not value.strip() or any(c in value for c in ";,\r\n"):
            raise ValueError("CSP sources separated by spaces ('none', 'self', https://shop)")
        return value.strip()

    @field_validator("public_keys", mode="before")
    @classmethod
    def _public_keys(cls, value: Any) -> frozenset[str]:
        return frozenset(comma_items(value))

    @field_serializer("public_keys")
    def _public_keys_text(self, value: frozenset[str]) -> str:
        return ",".join(sorted(value))

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> tuple[str, ...]:
        return tuple(sorted(set(comma_items(value))))

    @field_serializer("cors_origins")
    def _origins_text(self, value: tuple[str, ...]) -> str:
        return ",".join(value)

    @property
    def key_set(self) -> frozenset[str]:
        """The secret API keys."""
        raw = "" if self.keys is None else self.keys.get_secret_value()
        return frozenset(comma_items(raw))

    @property
    def cors_origin_list(self) -> list[str]:
        return list(self.cors_origins)


class OpsSettings(Group):
    """Switches of every command: the log level, and running an unsafe setup anyway."""

    log_level: str = Field("INFO", description="Python logging level.")
    allow_unsafe: bool = Field(False, description="Run despite unsafe_reasons() (security.md).")
