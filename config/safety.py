"""What makes a configuration unsafe or incoherent, and how secrets stay out of every text.

Kept apart from the settings' fields (config/settings/) so that each stays short. The
functions take anything shaped like :class:`SecuritySettings` (the built
``xsell.config.settings.Settings`` is), so this module does not import the settings module, which
imports it: no import cycle, not even a type-only one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from xsell.config.strength import secrets_problem
from xsell.models.errors import ConfigError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", ""})
FILE_SETTINGS = (
    ("redis", "tls_ca_file"),
    ("redis", "tls_cert_file"),
    ("redis", "tls_key_file"),
    ("kafka", "ssl_ca_file"),
    ("kafka", "ssl_cert_file"),
    ("kafka", "ssl_key_file"),
)


class _Redis(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def cluster(self) -> bool: ...
    @property
    def password(self) -> SecretStr | None: ...
    @property
    def tls_ca_file(self) -> str | None: ...
    @property
    def tls_cert_file(self) -> str | None: ...
    @property
    def tls_key_file(self) -> str | None: ...
    def is_loopback(self) -> bool: ...


class _Kafka(Protocol):
    @property
    def security_protocol(self) -> str: ...
    @property
    def sasl_mechanism(self) -> str: ...
    @property
    def sasl_username(self) -> str | None: ...
    @property
    def sasl_password(self) -> SecretStr | None: ...
    @property
    def ssl_ca_file(self) -> str | None: ...
    @property
    def ssl_cert_file(self) -> str | None: ...
    @property
    def ssl_key_file(self) -> str | None: ...
    @property
    def uses_tls(self) -> bool: ...
    @property
    def broker_list(self) -> list[str]: ...


class _Api(Protocol):
    @property
    def host(self) -> str: ...
    @property
    def key_set(self) -> frozenset[str]: ...
    @property
    def public_keys(self) -> frozenset[str]: ...
    @property
    def user_token_secret(self) -> SecretStr | None: ...
    @property
    def secret_min_bytes(self) -> int: ...
    @property
    def secret_min_bits(self) -> float: ...


class _Connect(Protocol):
    @property
    def shopify_webhook_secret(self) -> SecretStr | None: ...
    @property
    def woocommerce_webhook_secret(self) -> SecretStr | None: ...


class _Ops(Protocol):
    @property
    def allow_unsafe(self) -> bool: ...


class SecuritySettings(Protocol):
    """The settings these checks read (``xsell.config.settings.Settings`` has every one)."""

    @property
    def redis(self) -> _Redis: ...
    @property
    def kafka(self) -> _Kafka: ...
    @property
    def api(self) -> _Api: ...
    @property
    def connect(self) -> _Connect: ...
    @property
    def ops(self) -> _Ops: ...
    def unsafe_reasons(self) -> list[str]: ...


def mask_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (safe to log; never raises)."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


def url_password(url: str) -> str:
    """The password in ``url``'s user info ('' when none; never raises)."""
    userinfo, at, _ = urlsplit(url).netloc.rpartition("@")
    return userinfo.split(":", 1)[1] if at and ":" in userinfo else ""


def host_of(hostport: str) -> str:
    """The host of ``host:port`` or ``[v6]:port``, without brackets."""
    host = hostport.rsplit(":", 1)[0]
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def security_problem(s: SecuritySettings) -> str | None:
    """The first pair of security settings that cannot work together (None: coherent)."""
    redis, kafka = s.redis, s.kafka
    tls_files = (redis.tls_ca_file, redis.tls_cert_file, redis.tls_key_file)
    sasl = kafka.security_protocol.startswith("SASL_")
    kafka_tls = (kafka.ssl_ca_file, kafka.ssl_cert_file, kafka.ssl_key_file)
    checks = [
        (
            any(tls_files) and not redis.url.startswith("rediss://"),
            "redis_tls_* files need a rediss:// redis_url",
        ),
        (
            bool(redis.tls_cert_file) != bool(redis.tls_key_file),
            "redis_tls_cert_file and redis_tls_key_file go together",
        ),
        (
            redis.cluster and urlsplit(redis.url).path.strip("/") not in ("", "0"),
            "Redis Cluster has only database 0",
        ),
        (
            sasl and (not kafka.sasl_username or kafka.sasl_password is None),
            "SASL needs kafka_sasl_username and kafka_sasl_password",
        ),
        (
            not sasl and bool(kafka.sasl_username or kafka.sasl_password is not None),
            "kafka_sasl_* are set but kafka_security_protocol has no SASL",
        ),
        (
            any(kafka_tls) and not kafka.uses_tls,
            "kafka_ssl_* files need kafka_security_protocol SSL or SASL_SSL",
        ),
        (
            bool(kafka.ssl_cert_file) != bool(kafka.ssl_key_file),
            "kafka_ssl_cert_file and kafka_ssl_key_file go together",
        ),
        (
            bool(s.api.public_keys) and s.api.user_token_secret is None,
            "api_public_keys need api_user_token_secret: a public key alone could read or "
            "write any user's data",
        ),
    ]
    for failed, problem in checks:
        if failed:
            return problem
    weak = api_secrets_problem(s.api) or webhook_secrets_problem(s.connect, s.api)
    if weak:
        return weak
    for group, field in FILE_SETTINGS:
        path = getattr(getattr(s, group), field)
        if path and not Path(path).is_file():
            return f"{group}_{field}: no such file: {path}"
    return None


def api_secrets_problem(api: _Api) -> str | None:
    """A secret key, public key or token secret that is empty, short, a placeholder or of
    too little entropy (config/strength.py): anyone could guess it or forge a token."""
    token = api.user_token_secret
    named = [
        ("XSELL_API_KEYS", sorted(api.key_set)),
        ("XSELL_API_PUBLIC_KEYS", sorted(api.public_keys)),
        ("XSELL_API_USER_TOKEN_SECRET", [] if token is None else [token.get_secret_value()]),
    ]
    return secrets_problem(named, api.secret_min_bytes, api.secret_min_bits)


def webhook_secrets_problem(connect: _Connect, api: _Api) -> str | None:
    """A set webhook secret (docs/integrations.md) that is too weak, by the rules of the API's
    secrets: a guessable one would let anyone post orders and catalogue changes."""
    named = [
        (f"XSELL_{name.upper()}", [value.get_secret_value()])
        for name, value in (
            ("shopify_webhook_secret", connect.shopify_webhook_secret),
            ("woocommerce_webhook_secret", connect.woocommerce_webhook_secret),
        )
        if value is not None
    ]
    return secrets_problem(named, api.secret_min_bytes, api.secret_min_bits)


def unsafe_reasons(s: SecuritySettings) -> list[str]:
    """Production-safety problems of a configuration (empty when fine)."""
    reasons = []
    parts = urlsplit(s.redis.url)
    has_password = parts.password is not None or s.redis.password is not None
    if not s.redis.is_loopback() and not has_password:
        reasons.append(f"Redis at {parts.hostname} without a password")
    remote = [h for h in s.kafka.broker_list if host_of(h) not in LOOPBACK_HOSTS]
    if (
        remote
        and s.kafka.security_protocol == "SASL_PLAINTEXT"
        and s.kafka.sasl_mechanism == "PLAIN"
    ):
        reasons.append(f"SASL PLAIN password sent without TLS to Kafka at {remote[0]}")
    return reasons


def api_unsafe_reasons(s: SecuritySettings) -> list[str]:
    """What makes ``xsell api`` unsafe: serving beyond loopback without any key."""
    if s.api.host not in LOOPBACK_HOSTS and not (s.api.key_set or s.api.public_keys):
        return [f"the API on {s.api.host} without XSELL_API_KEYS or XSELL_API_PUBLIC_KEYS"]
    return []


def require_safe(settings: SecuritySettings, reasons: list[str] | None = None) -> None:
    """Refuse an obviously unsafe production setup unless ``allow_unsafe`` is set."""
    reasons = settings.unsafe_reasons() if reasons is None else reasons
    if reasons and not settings.ops.allow_unsafe:
        raise ConfigError(
            "unsafe configuration: "
            + "; ".join(reasons)
            + " (set XSELL_ALLOW_UNSAFE=true to run anyway)"
        )
