"""xsell.config.settings: defaults, XSELL_* environment, the TOML file, validation and masking."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from tests.unit.settings_env import clean_env, write_toml
from xsell.config.settings import Settings, load_settings, mask_url, safe_errors

pytestmark = pytest.mark.usefixtures(clean_env.__name__)  # imported above: the fixture

URL_SECRET = "url-s3cret-xyzzy"
PW_SECRET = "pw-s3cret-plugh"


# --- defaults ------------------------------------------------------------------------------


def test_defaults() -> None:
    s = Settings()
    assert s.kafka.servers == "127.0.0.1:9092"
    assert s.kafka.broker_list == ["127.0.0.1:9092"]
    assert s.redis.url == "redis://127.0.0.1:6379/0"
    assert s.redis.password is None
    assert s.kafka.topic_prefix == "xsell."
    assert s.redis.key_namespace == "xs"
    assert s.learning.half_life_days == 0.0
    assert s.ranking.popularity_prior == 1.0 and s.ranking.min_support == 0.0 and s.tuning.enabled
    assert s.learning.half_life_seconds == 0.0
    assert s.ranking.max_suggestions == 3
    assert s.ranking.similarity == "confidence"
    assert s.tuning.recency == (0.5, 0.75, 1.0)
    assert s.ranking.recency_decay == 0.5
    assert s.ranking.exclude_upsell is True
    assert s.ranking.addon_price_ratio == 0.0
    assert s.ranking.consumable_categories == ()
    assert s.inputs.max_order_lines == 1000
    assert s.inputs.max_payload_bytes == 1 << 20
    assert s.inputs.max_id_length == 128
    assert s.ops.allow_unsafe is False
    assert s.unsafe_reasons() == []


def test_default_toml_matches_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings().model_dump()
    default_toml = Path(__file__).resolve().parents[2] / "config" / "default.toml"
    monkeypatch.setenv("XSELL_CONFIG", str(default_toml))
    assert Settings().model_dump() == defaults


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.ranking.max_suggestions = 5  # type: ignore[misc]


def test_topic_naming(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().topic("orders") == "xsell.orders"
    assert Settings().topic("cart-events") == "xsell.cart-events"
    assert Settings(topic_prefix="").topic("orders") == "orders"
    monkeypatch.setenv("XSELL_TOPIC_PREFIX", "shop1.")
    assert Settings().topic("suggestions") == "shop1.suggestions"


# --- environment ---------------------------------------------------------------------------


def test_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XSELL_HALF_LIFE_DAYS", "3")
    monkeypatch.setenv("XSELL_MAX_SUGGESTIONS", "5")
    monkeypatch.setenv("XSELL_TOPIC_PREFIX", "prod.")
    monkeypatch.setenv("XSELL_EXCLUDE_UPSELL", "false")
    monkeypatch.setenv("XSELL_CONSUMABLE_CATEGORIES", '["ink", "paper"]')
    s = Settings()
    assert s.learning.half_life_days == 3.0
    assert s.learning.half_life_seconds == 3 * 86400.0
    assert s.ranking.max_suggestions == 5
    assert s.kafka.topic_prefix == "prod."
    assert s.ranking.exclude_upsell is False
    assert s.ranking.consumable_categories == ("ink", "paper")


def test_env_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("xsell_max_suggestions", "7")
    assert Settings().ranking.max_suggestions == 7


def test_keyword_arguments_win_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XSELL_MAX_SUGGESTIONS", "5")
    assert load_settings(max_suggestions=9).ranking.max_suggestions == 9


def test_invalid_env_value_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XSELL_HALF_LIFE_DAYS", "-1")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.setenv("XSELL_HALF_LIFE_DAYS", "soon")
    with pytest.raises(ValidationError):
        Settings()


# --- TOML file -----------------------------------------------------------------------------


def test_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        'half_life_days = 7.0\nmax_suggestions = 4\nsimilarity = "lift"\n'
        'consumable_categories = ["ink"]\n',
    )
    monkeypatch.setenv("XSELL_CONFIG", str(path))
    s = Settings()
    assert s.learning.half_life_days == 7.0
    assert s.ranking.max_suggestions == 4
    assert s.ranking.similarity == "lift"
    assert s.ranking.consumable_categories == ("ink",)
    assert s.kafka.topic_prefix == "xsell."  # untouched keys keep their defaults


def test_env_wins_over_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write_toml(tmp_path, "half_life_days = 7.0\nmax_suggestions = 4\n")
    monkeypatch.setenv("XSELL_CONFIG", str(path))
    monkeypatch.setenv("XSELL_MAX_SUGGESTIONS", "6")
    s = Settings()
    assert s.ranking.max_suggestions == 6
    assert s.learning.half_life_days == 7.0


def test_missing_config_file_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XSELL_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        Settings()


def test_unknown_toml_key_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XSELL_CONFIG", str(write_toml(tmp_path, "max_suggestion = 4\n")))
    with pytest.raises(ValidationError):
        Settings()


def test_invalid_toml_value_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XSELL_CONFIG", str(write_toml(tmp_path, "max_suggestions = 0\n")))
    with pytest.raises(ValidationError):
        Settings()


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"half_life_days": -1.0},
        {"max_suggestions": 0},
        {"max_suggestions": 51},
        {"recency_decay": 0.0},
        {"recency_decay": 1.5},
        {"similarity": "pearson"},
        {"kafka_heartbeat_interval": 6.0},  # == session timeout
        {"kafka_heartbeat_interval": 10.0, "kafka_session_timeout": 5.0},
        {"kafka_brokers": "localhost"},
        {"kafka_brokers": "a:1,b"},
        {"kafka_brokers": ""},
        {"kafka_brokers": " , "},
        {"topic_prefix": "xsell{1}."},
        {"topic_prefix": "a}"},
        {"topic_prefix": "x*"},
        {"topic_prefix": "x ."},
        {"key_namespace": "{xs}"},
        {"app_id": "my app"},
        {"redis_url": "http://127.0.0.1:6379/0"},
        {"redis_url": "127.0.0.1:6379"},
        {"max_payload_bytes": 255},
        {"unknown_setting": 1},
    ],
)
def test_invalid_values_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**kwargs)


def test_valid_edge_values() -> None:
    s = Settings(
        half_life_days=0,
        kafka_heartbeat_interval=5.9,
        recency_decay=1.0,
        redis_url="unix:///run/redis.sock",
        max_suggestions=50,
    )
    assert (s.learning.half_life_days, s.kafka.heartbeat_interval, s.ranking.recency_decay) == (
        0.0,
        5.9,
        1.0,
    )
    assert Settings(redis_url="rediss://:pw@cache.example.com:6380/1").redis.url.startswith(
        "rediss://"
    )


def test_broker_list_is_normalised() -> None:
    s = Settings(kafka_brokers=" k1:9092 , k2:9093,")
    assert s.kafka.servers == "k1:9092,k2:9093"
    assert s.kafka.broker_list == ["k1:9092", "k2:9093"]


# --- secrets -------------------------------------------------------------------------------


def secret_settings() -> Settings:
    return Settings(
        redis_url=f"redis://default:{URL_SECRET}@10.1.2.3:6379/0", redis_password=PW_SECRET
    )


def test_secrets_are_not_in_repr_or_str() -> None:
    s = secret_settings()
    for text in (repr(s), str(s), f"{s}", f"{s!r}"):
        assert URL_SECRET not in text
        assert PW_SECRET not in text
    assert "redis://default:***@10.1.2.3:6379/0" in repr(s)


def test_secrets_are_not_in_masked() -> None:
    s = secret_settings()
    masked = s.masked()
    assert masked["redis"]["url"] == "redis://default:***@10.1.2.3:6379/0"
    assert masked["redis"]["password"] == "***"
    assert URL_SECRET not in repr(masked)
    assert PW_SECRET not in repr(masked)
    assert masked["ranking"]["max_suggestions"] == 3
    assert set(masked) == set(Settings.model_fields)


def test_secret_still_usable() -> None:
    s = secret_settings()
    assert isinstance(s.redis.password, SecretStr)
    assert s.redis.password.get_secret_value() == PW_SECRET
    assert URL_SECRET in s.redis.url


def test_secrets_from_env_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XSELL_REDIS_URL", f"rediss://:{URL_SECRET}@redis.internal:6380/2")
    monkeypatch.setenv("XSELL_REDIS_PASSWORD", PW_SECRET)
    s = Settings()
    assert s.masked()["redis"]["url"] == "rediss://:***@redis.internal:6380/2"
    for text in (repr(s), str(s), repr(s.masked())):
        assert URL_SECRET not in text
        assert PW_SECRET not in text


def test_masked_without_password_keeps_url() -> None:
    assert Settings().masked()["redis"]["url"] == "redis://127.0.0.1:6379/0"
    assert Settings().masked()["redis"]["password"] is None


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:pw@host:6380/1", "redis://:***@host:6380/1"),
        ("redis://user:pw@host/0", "redis://user:***@host/0"),
        (
            "rediss://u:p%40ss@host:6379/0?ssl_cert_reqs=none",
            "rediss://u:***@host:6379/0?ssl_cert_reqs=none",
        ),
        ("redis://user@host:6379/0", "redis://user@host:6379/0"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_url_ipv6() -> None:
    assert mask_url("redis://:pw@[::1]:6379/0") == "redis://:***@[::1]:6379/0"


def test_non_numeric_port_is_rejected_and_masking_never_raises() -> None:
    with pytest.raises(ValidationError, match="invalid port"):
        Settings(redis_url="redis://:pw@host:abc/0")
    assert mask_url("redis://:pw@host:abc/0") == "redis://:***@host:abc/0"


def test_validation_errors_as_printed_do_not_echo_the_password() -> None:
    """pydantic's own text echoes inputs; the CLI prints safe_errors() instead."""
    for bad in (
        {"redis_url": "http://:hunter2@h/0"},
        {
            "redis_url": "redis://:hunter2@h/0",
            "redis_password": "hunter2",
            "kafka_heartbeat_interval": 9.0,
        },
    ):
        with pytest.raises(ValidationError) as info:
            Settings(**bad)
        text = safe_errors(info.value)
        assert "hunter2" not in text and text.strip()


# --- production safety ---------------------------------------------------------------------


def test_unsafe_non_loopback_redis_without_password() -> None:
    s = Settings(redis_url="redis://10.0.0.5:6379/0")
    assert not s.redis.is_loopback()
    assert s.unsafe_reasons() == ["Redis at 10.0.0.5 without a password"]
    assert Settings(redis_url="redis://default@cache.example.com/0").unsafe_reasons() == [
        "Redis at cache.example.com without a password"
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"redis_url": "redis://127.0.0.1:6379/0"},
        {"redis_url": "redis://localhost:6379/0"},
        {"redis_url": "redis://[::1]:6379/0"},
        {"redis_url": "unix:///run/redis.sock"},
        {"redis_url": "redis://:pw@10.0.0.5:6379/0"},
        {"redis_url": "redis://10.0.0.5:6379/0", "redis_password": "pw"},
    ],
)
def test_safe_configurations(kwargs: dict[str, str]) -> None:
    assert Settings(**kwargs).unsafe_reasons() == []
