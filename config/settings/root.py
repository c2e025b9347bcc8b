"""The one settings object of xsell, nested by feature.

Precedence, highest first: keyword arguments, ``XSELL_*`` environment variables, the TOML
file named by ``XSELL_CONFIG`` (or ``--config``), then the defaults (which
``config/default.toml`` documents); config/settings/sources.py reads them, flat names and
nested ones alike. Secrets are ``SecretStr`` or masked in URLs, so printing or logging a
``Settings`` never shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from xsell.config.experiment import experiment_of
from xsell.config.safety import security_problem, unsafe_reasons
from xsell.config.settings.connect import ConnectSettings
from xsell.config.settings.connections import KafkaSettings, RedisSettings
from xsell.config.settings.engine import (
    InputSettings,
    LearningSettings,
    RankingSettings,
    RulesSettings,
    SegmentSettings,
    TuningSettings,
    WorkerSettings,
)
from xsell.config.settings.names import FLAT, GROUPS, nest
from xsell.config.settings.offers import OffersSettings
from xsell.config.settings.product import ApiSettings, FeedbackSettings, NotifySettings, OpsSettings
from xsell.config.settings.sources import file_sources
from xsell.models.events import Limits
from xsell.models.experiments import Experiment


class Settings(BaseSettings):
    """Every tunable of xsell, one group per feature. Field docs are the configuration
    reference (``xsell config``); config/settings/names.py maps the flat ``XSELL_*`` names."""

    # hide_input_in_errors: str(ValidationError) never echoes a value (it may be a secret)
    model_config = SettingsConfigDict(
        env_prefix="XSELL_", extra="forbid", frozen=True, hide_input_in_errors=True
    )

    kafka: KafkaSettings = Field(default_factory=lambda: KafkaSettings.model_validate({}))
    redis: RedisSettings = Field(default_factory=lambda: RedisSettings.model_validate({}))
    learning: LearningSettings = Field(default_factory=lambda: LearningSettings.model_validate({}))
    ranking: RankingSettings = Field(default_factory=lambda: RankingSettings.model_validate({}))
    rules: RulesSettings = Field(default_factory=lambda: RulesSettings.model_validate({}))
    segments: SegmentSettings = Field(default_factory=lambda: SegmentSettings.model_validate({}))
    tuning: TuningSettings = Field(default_factory=lambda: TuningSettings.model_validate({}))
    worker: WorkerSettings = Field(default_factory=lambda: WorkerSettings.model_validate({}))
    inputs: InputSettings = Field(default_factory=lambda: InputSettings.model_validate({}))
    feedback: FeedbackSettings = Field(default_factory=lambda: FeedbackSettings.model_validate({}))
    notify: NotifySettings = Field(default_factory=lambda: NotifySettings.model_validate({}))
    offers: OffersSettings = Field(default_factory=lambda: OffersSettings.model_validate({}))
    api: ApiSettings = Field(default_factory=lambda: ApiSettings.model_validate({}))
    connect: ConnectSettings = Field(default_factory=lambda: ConnectSettings.model_validate({}))
    ops: OpsSettings = Field(default_factory=lambda: OpsSettings.model_validate({}))

    def __init__(self, **values: Any) -> None:
        """Flat keywords (``redis_url=...``) are the nested ones (``redis={"url": ...}``)."""
        super().__init__(**nest(values))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, *file_sources(settings_cls))

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        """Security settings that cannot work together fail at start, not at first use."""
        problem = security_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied; flat names (``{"redis_url": ...}``) are accepted
        beside groups, and update only their field (not validated, as in pydantic)."""
        nested: dict[str, Any] = {}
        for key, value in nest(update or {}).items():
            if key in GROUPS and isinstance(value, dict):
                value = getattr(self, key).model_copy(update=value, deep=deep)
            nested[key] = value
        return super().model_copy(update=nested, deep=deep)

    # --- derived -------------------------------------------------------------------------
    def topic(self, name: str) -> str:
        """Full topic name for a logical name (``orders`` -> ``xsell.orders``)."""
        return f"{self.kafka.topic_prefix}{name}"

    @property
    def limits(self) -> Limits:
        """The input limits every parser of records (worker, CSV, API) applies."""
        return self.inputs.limits

    @property
    def running_experiment(self) -> Experiment:
        """The experiment users are assigned in (a single ``default`` variant if none)."""
        return experiment_of(self.feedback.experiment, self.feedback.ab_holdout_percent)

    def unsafe_reasons(self) -> list[str]:
        """Production-safety problems of this configuration (empty when fine)."""
        return unsafe_reasons(self)

    def masked(self) -> dict[str, Any]:
        """All settings, nested, as a dict that is safe to print or log."""
        return {name: getattr(self, name).masked() for name in GROUPS}

    def secret_values(self) -> list[str]:
        """Every secret value of every group (what :meth:`masked` hides), for the logs'
        redaction (config/logs.py)."""
        return [v for name in GROUPS for v in getattr(self, name).secret_values()]

    def masked_flat(self) -> dict[str, Any]:
        """``masked()`` keyed by the flat names (``redis_url``), for reports that predate
        the nesting."""
        nested = self.masked()
        return {flat: nested[group][field] for flat, (group, field) in FLAT.items()}

    def __repr_args__(self) -> Any:  # keeps repr()/str() free of secrets
        return list(self.masked().items())


def flat_defaults() -> dict[str, Any]:
    """Every flat name (``redis_url``) with its default as its variable's text would say it
    (the documentation's tables are checked against this; the environment plays no part)."""
    groups = {name: Settings.model_fields[name].annotation for name in GROUPS}
    defaults = {name: cls.model_validate({}).masked() for name, cls in groups.items() if cls}
    return {flat: defaults[group][field] for flat, (group, field) in FLAT.items()}


def load_settings(**overrides: Any) -> Settings:
    """Build and validate a fresh Settings (env + file + ``overrides``, flat or nested)."""
    return Settings(**overrides)
