"""The API's self-tuning gauges follow the status: the choice's prior, and 1 for the
similarity in use, 0 for the other candidates."""

from __future__ import annotations

from prometheus_client import REGISTRY

from xsell.api.metrics import set_tuning


def _status(similarity: str, prior: float) -> dict[str, object]:
    return {
        "cases": 300.0,
        "recency_decay": 1.0,
        "similarity": similarity,
        "popularity_prior": prior,
        "hit_rates": {"1.0": 0.2, "1.0/similarity=jaccard": 0.3},
    }


def test_the_gauges_name_the_similarity_and_prior_in_use() -> None:
    def value(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, labels)

    set_tuning(_status("jaccard", 1.0), ("confidence", "jaccard"))
    assert value("xsell_tuning_similarity", similarity="jaccard") == 1.0
    assert value("xsell_tuning_similarity", similarity="confidence") == 0.0
    assert value("xsell_tuning_popularity_prior") == 1.0
    assert value("xsell_tuning_hit_rate", recency_decay="1.0/similarity=jaccard") == 0.3
    set_tuning(_status("confidence", 10000.0), ("confidence", "jaccard"))
    assert value("xsell_tuning_similarity", similarity="jaccard") == 0.0
    assert value("xsell_tuning_similarity", similarity="confidence") == 1.0
    assert value("xsell_tuning_popularity_prior") == 10000.0
