"""The experiment of the settings (TOML ``[experiment]``, or ``XSELL_EXPERIMENT`` as JSON):
its name, salt and variants, each with a weight and optional ranking overrides. Validated at
start like every setting; turned into the pure :class:`xsell.models.experiments.Experiment`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from xsell.models.experiments import CONTROL, Experiment, Variant

SimilarityName = Literal["count", "jaccard", "lift", "confidence", "cosine", "asym_cosine"]


class VariantSettings(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    weight: float = Field(1.0, gt=0)
    similarity: SimilarityName | None = None
    max_suggestions: int | None = Field(None, ge=1, le=50)


class ExperimentSettings(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    name: str = Field(min_length=1, max_length=64)
    salt: str = Field(min_length=1, max_length=128)
    variants: tuple[VariantSettings, ...] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _distinct(self) -> ExperimentSettings:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("experiment variants need distinct names")
        if CONTROL in names:
            raise ValueError("'control' is the holdout's name (XSELL_AB_HOLDOUT_PERCENT)")
        return self


def experiment_of(configured: ExperimentSettings | None, holdout_percent: float) -> Experiment:
    """The running experiment: the configured one, or a single ``default`` variant; both with
    the holdout of ``XSELL_AB_HOLDOUT_PERCENT``."""
    if configured is None:
        return Experiment("default", "xsell", (Variant("default"),), holdout_percent)
    variants = tuple(
        Variant(v.name, v.weight, v.similarity, v.max_suggestions) for v in configured.variants
    )
    return Experiment(configured.name, configured.salt, variants, holdout_percent)
