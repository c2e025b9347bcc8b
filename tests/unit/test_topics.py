"""Every topic is declared once (config/topics.py); the worker, `xsell topics create` and the
documents derive from it, and this test fails when one of them drifts."""

from __future__ import annotations

from pathlib import Path

import faust

from xsell import kafka_clients
from xsell.config.settings import Settings
from xsell.config.topics import BATCH_INPUTS, TOPICS, Direction, names, partition_count, topic_spec
from xsell.models.validate import PARSERS
from xsell.streams.topics import Topics, declare_topics

DOCS = Path(__file__).resolve().parents[2] / "docs"


def contract_rows(prefix: str = "xsell.") -> list[str]:
    """docs/contract.md's topic table, rendered from the declaration."""
    rows = ["| Topic | Key | Value | Written by | Read by |", "|---|---|---|---|---|"]
    for t in TOPICS:
        key = f"`{t.key}`" if t.key else "none"
        value = f"[{t.message_label}]({t.schema_path})"
        rows.append(f"| `{prefix}{t.name}` | {key} | {value} | {t.written_by} | {t.read_by} |")
    return rows


def architecture_rows(prefix: str = "xsell.") -> list[str]:
    """docs/architecture.md's topic table, rendered from the declaration."""
    rows = ["| topic | direction | key | in the worker | purpose |", "|---|---|---|---|---|"]
    for t in TOPICS:
        key = f"`{t.key}`" if t.key else "none"
        worker = f"agent `{t.agent}`" if t.agent else "sent by the worker"
        rows.append(
            f"| `{prefix}{t.name}` | {t.direction.value} | {key} | {worker} | {t.purpose} |"
        )
    return rows


def table_after(text: str, header: str) -> list[str]:
    """The markdown table of ``text`` that starts with ``header``."""
    lines = text.splitlines()
    start = lines.index(header)
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def test_names_are_unique_and_every_message_has_its_schema() -> None:
    assert len(set(names())) == len(TOPICS) == 8
    for t in TOPICS:
        assert (DOCS / t.schema_path).is_file(), t.schema_path
        assert topic_spec(t.name) is t


def test_five_topics_in_three_out_each_input_read_by_one_agent() -> None:
    inputs, outputs = names(Direction.IN), names(Direction.OUT)
    assert len(inputs) == 5 and len(outputs) == 3
    assert all(topic_spec(n).agent for n in inputs)
    assert not any(topic_spec(n).agent for n in outputs)
    assert set(BATCH_INPUTS) == set(inputs) - {"profiles"}  # profiles: streams/notify.py
    assert set(BATCH_INPUTS) <= set(PARSERS)  # each batch input has its record parser


def test_the_contract_and_the_architecture_list_every_topic_as_declared() -> None:
    contract = table_after((DOCS / "contract.md").read_text(), contract_rows()[0])
    assert contract == contract_rows()
    architecture_text = (DOCS / "architecture.md").read_text()
    assert table_after(architecture_text, architecture_rows()[0]) == architecture_rows()
    diagram = architecture_text.split("## The flow", 1)[1].split("```")[1]
    for name in names():
        assert f"[xsell.{name}]" in diagram, name


def test_topics_create_and_the_worker_derive_from_the_declaration() -> None:
    settings = Settings(topic_prefix="t1.", topic_partitions=3)
    assert names() == kafka_clients.TOPICS
    assert {partition_count(settings, t) for t in TOPICS} == {3}
    app = faust.App("test-topics", broker="kafka://127.0.0.1:1", web_enabled=False)
    topics = declare_topics(app, settings)
    assert isinstance(topics, Topics)
    for t in TOPICS:
        declared = topics.named(t.name)
        assert declared.get_topic_name() == f"t1.{t.name}"
        assert declared.partitions == 3
