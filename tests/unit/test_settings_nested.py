"""xsell.config.settings nested by feature: the nested spellings (added beside the flat ones), typed
text formats, flat ``model_copy``, errors naming the variable, and ``xsell config``'s sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.unit.settings_env import clean_env, write_toml
from xsell.config.settings import FLAT, Settings, load_settings, safe_errors
from xsell.config.settings.show import as_text, effective
from xsell.models.errors import ConfigError

pytestmark = pytest.mark.usefixtures(clean_env.__name__)  # imported above: the fixture

PW_SECRET = "pw-s3cret-plugh"


def test_nested_env_and_toml_tables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write_toml(tmp_path, "half_life_days = 2.0\n[ranking]\nmax_suggestions = 4\n")
    monkeypatch.setenv("XSELL_CONFIG", str(path))
    monkeypatch.setenv("XSELL_REDIS__KEY_NAMESPACE", "shop1")
    s = Settings()
    assert (s.learning.half_life_days, s.ranking.max_suggestions) == (2.0, 4)
    assert s.redis.key_namespace == "shop1"
    assert load_settings(ranking={"max_suggestions": 7}).ranking.max_suggestions == 7


def test_unknown_key_in_a_feature_table_raises(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XSELL_CONFIG", str(write_toml(tmp_path, "[ranking]\nmax_suggestion = 4\n")))
    with pytest.raises(ValidationError):
        Settings()


def test_flat_and_nested_variables_that_disagree_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XSELL_MAX_SUGGESTIONS", "4")
    monkeypatch.setenv("XSELL_RANKING__MAX_SUGGESTIONS", "5")
    with pytest.raises(ConfigError, match="XSELL_MAX_SUGGESTIONS"):
        Settings()


def test_text_formats_become_typed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XSELL_TUNING_RECENCY", "0.5, 1")
    monkeypatch.setenv("XSELL_NOTIFY_CAPS", "push=2/3600")
    monkeypatch.setenv("XSELL_NOTIFY_QUIET_HOURS", "")
    monkeypatch.setenv("XSELL_API_CORS_ORIGINS", "https://b.example,https://a.example")
    monkeypatch.setenv("XSELL_CONSUMABLE_CATEGORIES", "ink,paper")  # JSON still works too
    s = Settings()
    assert s.tuning.recency == (0.5, 1.0)
    assert s.notify.caps["push"].count == 2 and s.notify.quiet_hours is None
    assert s.api.cors_origin_list == ["https://a.example", "https://b.example"]
    assert s.ranking.consumable_categories == ("ink", "paper")
    shown = s.masked_flat()  # the variables' own text, as `xsell config` prints it
    assert shown["notify_caps"] == "push=2/3600" and shown["tuning_recency"] == "0.5,1.0"


def test_flat_model_copy_updates_the_group() -> None:
    s = Settings().model_copy(update={"key_namespace": "other", "max_suggestions": 5})
    assert (s.redis.key_namespace, s.ranking.max_suggestions) == ("other", 5)
    assert s.redis.url == "redis://127.0.0.1:6379/0"


def test_every_flat_name_maps_to_one_field() -> None:
    fields = {
        (group, field)
        for group, info in Settings.model_fields.items()
        for field in info.annotation.model_fields  # type: ignore[union-attr]
    }
    assert sorted(FLAT.values()) == sorted(fields)
    assert len(FLAT) == 153


def test_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XSELL_HALF_LIFE_DAYS", "-1")
    with pytest.raises(ValidationError) as info:
        Settings()
    text = safe_errors(info.value)
    assert len(text.splitlines()) == 1
    assert "XSELL_HALF_LIFE_DAYS (learning.half_life_days)" in text


def test_config_shows_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XSELL_CONFIG", str(write_toml(tmp_path, "max_suggestions = 4\n")))
    monkeypatch.setenv("XSELL_REDIS_PASSWORD", PW_SECRET)
    s = Settings()
    shown = effective(s)
    assert shown["sources"]["ranking.max_suggestions"].endswith("xsell.toml: max_suggestions")
    assert shown["sources"]["redis.password"] == "env XSELL_REDIS_PASSWORD"
    assert shown["sources"]["kafka.brokers"] == "default"
    text = as_text(s)
    assert "[ranking]\nmax_suggestions = 4  # file" in text
    assert PW_SECRET not in text and 'password = "***"  # env XSELL_REDIS_PASSWORD' in text
