"""`xsell eval --promote-share`: a promote rule measured on a small synthetic file, end to end
(a private redis-server, the CLI's process)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xsell.config.settings import load_settings
from xsell.devenv.synthetic_shop import Shop, make_catalog, write_orders_csv
from xsell.evaluation.runner import evaluate
from xsell.ops.orders_csv import load_orders

pytestmark = pytest.mark.integration


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    catalog = make_catalog(seed=11)
    orders = Shop(catalog, seed=11).orders(400, seed=11)
    path = tmp_path / "shop.csv"
    write_orders_csv(path, orders, catalog)
    return path


def _promote(path: Path, *extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSELL_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "xsell.cli",
            "eval",
            "--orders",
            str(path),
            "--promote-share",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    ).stdout


def test_promote_share_measures_the_rule_against_the_plain_ranking(small_file: Path) -> None:
    rep = json.loads(_promote(small_file, "0.2", "--json"))  # one JSON document on stdout
    assert rep["rule"] == {"then": {"promote": {"tag": "promoted", "slots": 1}}}
    assert rep["promoted_items"] > 0 and rep["triggers"] > 50
    assert 0 < rep["in_reach"] <= rep["with_evidence"] <= rep["triggers"]
    curve = rep["curve"]
    assert [p["min_score_ratio"] for p in curve] == [0.0, 0.05, 0.1, 0.25, 0.3, 0.35, 0.4, 0.5]
    # where the ranker had a promoted item with evidence, the default rule always gives it
    # its slot; of all triggers with evidence, only those out of reach can miss one (or hold
    # a promoted item that came without evidence, as popular padding)
    assert curve[0]["share_in_reach"] == 1.0
    assert curve[0]["share"] >= round(rep["in_reach"] / rep["with_evidence"], 4)
    assert curve[0]["share"] > rep["share_without_rule"]
    # a higher bar can only take slots away
    for lower, higher in itertools.pairwise(curve):
        assert higher["share"] <= lower["share"]
        assert higher["share_in_reach"] <= lower["share_in_reach"]
    assert curve[-1]["share"] < curve[0]["share"]  # 0.5 of the best score is a real bar here
    assert rep["hr_with_rule"] == curve[0]["hr"]
    assert isinstance(rep["target_met"], bool)
    # without the rule, the ranking is the plain eval's: the tag changes nothing else
    orders, stats = load_orders(small_file)  # as the CLI reads it: with the file's catalogue
    catalog = list(stats.catalog.values())
    plain = evaluate(load_settings(), orders, "shop", progress=False, catalog=catalog)
    assert rep["hr_without_rule"] == plain["results"]["xsell"]["hr"]
    assert rep["triggers"] == plain["triggers"]


def test_promote_share_prints_the_curve_for_people(small_file: Path) -> None:
    out = _promote(small_file, "0.1", "--promote-seed", "1", "--promote-ratios", "0.5,0.2")
    assert "HR@3 without the rule" in out and "min_score_ratio" in out
    rows = [line.split()[0] for line in out.splitlines() if line.startswith(" ")]
    assert rows == ["min_score_ratio", "0", "0.2", "0.5"]  # 0 added, sorted
    assert "target (share >= 90%" in out
