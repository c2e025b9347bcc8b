"""xsell.models.scoring.score_batch (the batch, array form) gives exactly what
xsell.models.ranking.score_candidates (the dict form, the reference) gives, on random batches with
decay, exclusions, both signals, one request or many."""

from __future__ import annotations

import random

import numpy as np
import pytest

from xsell.models.decay import decayed_value
from xsell.models.ranking import (
    NO_ANCHOR,
    Neighbours,
    RankInput,
    RankParams,
    RankRequest,
    score_candidates,
)
from xsell.models.scoring import (
    BatchStats,
    anchor_stats,
    score_batch,
    together_value,
)
from xsell.models.similarity import SIMILARITIES

HALF_LIFE = 30 * 86400.0


def _random_batch(
    rng: random.Random,
) -> tuple[
    BatchStats,
    dict[str, tuple[float, tuple[list[str], list[float]], tuple[list[str], list[float]]]],
    dict[str, float],
]:
    catalogue = [f"i{n:03d}" for n in range(rng.randint(5, 80))]
    raw: dict[str, tuple[float, tuple[list[str], list[float]], tuple[list[str], list[float]]]]
    raw = {}
    for anchor in rng.sample(catalogue, rng.randint(1, min(12, len(catalogue)))):
        others = [c for c in catalogue if c != anchor]
        together = rng.sample(others, rng.randint(0, min(20, len(others))))
        co_added = rng.sample(others, rng.randint(0, min(10, len(others))))
        raw[anchor] = (
            rng.uniform(0, 1e7),
            (together, [rng.choice([0.5, 1.0, 2.0, rng.uniform(0, 9)]) for _ in together]),
            (co_added, [rng.uniform(0, 3) for _ in co_added]),
        )
    items = sorted({m for _, t, c in raw.values() for m in t[0] + c[0]} | set(raw))
    counts = {i: rng.choice([0.0, rng.uniform(1, 50)]) for i in items}
    position = {item: n for n, item in enumerate(items)}
    stats = BatchStats(
        items=items,
        position=position,
        counts=np.asarray([counts[i] for i in items]),
        total=rng.uniform(100, 1e4),
        landmark=rng.uniform(0, 1e7),
        half_life=HALF_LIFE,
        anchors={a: anchor_stats(position, t, c, land) for a, (land, t, c) in raw.items()},
        popular=np.asarray(
            [position[i] for i in rng.sample(items, rng.randint(0, min(20, len(items))))],
            dtype=np.int64,
        ),
    )
    return stats, raw, counts


def _reference(
    stats: BatchStats,
    raw: dict[str, tuple[float, tuple[list[str], list[float]], tuple[list[str], list[float]]]],
    counts: dict[str, float],
    anchors: list[str],
    exclude: frozenset[str],
    now: float,
) -> RankInput:
    """The dict-form input, built as the reader used to build it."""
    g = decayed_value(1.0, stats.landmark, now, stats.half_life)
    neighbours = {}
    for a in anchors:
        if a not in raw:
            continue  # an anchor without statistics has no neighbours
        land, (tm, tw), (cm, cw) = raw[a]
        f = decayed_value(1.0, land, now, stats.half_life)
        neighbours[a] = Neighbours(
            dict(zip(tm, [v * f for v in tw], strict=True)),
            dict(zip(cm, [v * f for v in cw], strict=True)),
        )
    return RankInput(
        anchors=anchors,
        exclude=exclude,
        neighbours=neighbours,
        counts={x: counts[x] * g for x in counts},
        total=stats.total * g,
        catalog={},
        history={},
        popular=[(stats.items[int(p)], counts[stats.items[int(p)]] * g) for p in stats.popular],
        now=now,
    )


@pytest.mark.parametrize("similarity", sorted(SIMILARITIES))
def test_batch_scores_equal_the_reference(similarity: str) -> None:
    rng = random.Random(similarity)
    for _ in range(150):
        stats, raw, counts = _random_batch(rng)
        params = RankParams(
            similarity=similarity,
            min_support=rng.choice([0.0, 1.0, 2.0]),
            recency_decay=rng.choice([0.5, 1.0]),
            popularity_prior=rng.choice([0.0, 0.0, 2.0, 10.0]),
        )
        anchors = rng.sample(sorted(raw), rng.randint(1, len(raw)))
        exclude = frozenset(anchors) | frozenset(
            rng.sample(stats.items, rng.randint(0, min(5, len(stats.items))))
        )
        now = stats.landmark + rng.uniform(0, 5 * HALF_LIFE)
        top = rng.choice([1, 3, 25, 1000])
        ref = score_candidates(_reference(stats, raw, counts, anchors, exclude, now), params)
        expected = dict(sorted(ref.items(), key=lambda kv: (-kv[1][0], kv[0]))[:top])
        (got,) = score_batch(stats, [RankRequest(anchors, exclude, now)], params, top)
        assert got == expected
        assert list(got) == list(expected)  # ranking order: score, then id
        for cand, (_, anchor, _) in got.items():
            if anchor == NO_ANCHOR:  # only the popularity prior scored it
                assert stats.position[cand] in stats.popular.tolist()
                continue
            inp = _reference(stats, raw, counts, anchors, exclude, now)
            assert together_value(stats, anchor, cand, now) == inp.neighbours[anchor].together.get(
                cand, 0.0
            )


def test_ties_at_the_cut_keep_the_lower_ids() -> None:
    items = ["a", "b", "c", "d", "x"]
    position = {i: n for n, i in enumerate(items)}
    stats = BatchStats(
        items=items,
        position=position,
        counts=np.ones(5),
        total=10.0,
        landmark=0.0,
        half_life=0.0,
        anchors={
            "x": anchor_stats(position, (["d", "c", "b", "a"], [2.0, 2.0, 2.0, 3.0]), ([], []), 0.0)
        },
    )
    (got,) = score_batch(
        stats, [RankRequest(["x"], frozenset({"x"}), 0.0)], RankParams(similarity="count"), 3
    )
    assert list(got) == ["a", "b", "c"]


@pytest.mark.parametrize("similarity", sorted(SIMILARITIES))
def test_whole_batch_scores_equal_the_reference_per_request(similarity: str) -> None:
    rng = random.Random("batch-" + similarity)
    for _ in range(60):
        stats, raw, counts = _random_batch(rng)
        params = RankParams(
            similarity=similarity,
            min_support=rng.choice([0.0, 1.0, 2.0]),
            recency_decay=rng.choice([0.5, 1.0]),
            popularity_prior=rng.choice([0.0, 0.0, 2.0, 10.0]),
        )
        requests = []
        for _ in range(rng.randint(1, 12)):
            anchors = rng.sample(sorted(raw), rng.randint(1, len(raw)))
            if rng.random() < 0.2:
                anchors.append("never-seen")  # an anchor without stats is skipped
            exclude = frozenset(anchors) | frozenset(
                rng.sample(stats.items, rng.randint(0, min(5, len(stats.items))))
            )
            requests.append(
                RankRequest(anchors, exclude, stats.landmark + rng.uniform(0, 5 * HALF_LIFE))
            )
        top = rng.choice([1, 3, 25, 1000])
        expected = []
        for r in requests:
            ref = score_candidates(
                _reference(stats, raw, counts, list(r.anchors), r.exclude, r.now), params
            )
            expected.append(dict(sorted(ref.items(), key=lambda kv: (-kv[1][0], kv[0]))[:top]))
        got = score_batch(stats, requests, params, top)
        assert got == expected
        assert [list(g) for g in got] == [list(e) for e in expected]
