"""`xsell eval`: the in-process path and the path through Kafka give the same numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xsell.config.settings import load_settings
from xsell.devenv.servers import LocalBroker, LocalRedis
from xsell.devenv.synthetic_shop import Shop, make_catalog, write_orders_csv
from xsell.evaluation.runner import evaluate
from xsell.ops.orders_csv import read_orders

pytestmark = pytest.mark.integration


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    catalog = make_catalog(seed=11)
    orders = Shop(catalog, seed=11).orders(250, seed=11)
    path = tmp_path / "shop.csv"
    write_orders_csv(path, orders, catalog)
    return path


def test_through_kafka_gives_the_in_process_numbers(
    small_file: Path, broker: LocalBroker, redis_server: LocalRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XSELL_KAFKA_BROKERS", broker.bootstrap)
    monkeypatch.setenv("XSELL_REDIS_URL", redis_server.url)
    settings = load_settings(
        kafka_session_timeout=3, kafka_heartbeat_interval=0.5, batch_window=0.005
    )
    orders = list(read_orders(small_file))
    # one event at a time, as through Kafka (each send awaits its suggestion)
    direct = evaluate(settings, orders, "shop", progress=False, shoppers=1)
    kafka = evaluate(settings, orders, "shop", progress=False, through_kafka=True)
    assert direct["triggers"] == kafka["triggers"] > 50
    assert direct["results"] == kafka["results"]
    assert direct["results"]["xsell"]["hr"] > direct["results"]["popular"]["hr"]


def test_eval_json_prints_one_object(small_file: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSELL_")}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "xsell.cli",
            "eval",
            "--orders",
            str(small_file),
            "--k",
            "3",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    ).stdout
    report = json.loads(out)  # exactly one JSON document on stdout
    assert set(report) == {
        "dataset",
        "k",
        "train_orders",
        "test_orders",
        "triggers",
        "anchors",
        "results",
        "tuning",
        "seconds",
    }
    assert report["dataset"] == "shop" and report["k"] == 3
    assert report["train_orders"] == 200 and report["test_orders"] == 50
    assert report["anchors"] == "streamed"  # the default: they learn the test orders too
    assert set(report["results"]) == {"xsell", "popular", "jaccard", "rconf", "vsknn", "stan"}
    assert report["tuning"]["enabled"] is True
    assert report["tuning"]["recency_decay"] in (0.5, 0.75, 1.0)
    for values in report["results"].values():
        assert set(values) == {"hr", "precision", "ndcg", "mrr", "coverage"}
        assert 0 <= values["hr"] <= 1
