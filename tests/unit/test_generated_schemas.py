"""docs/schemas/*.json are generated from the message models (models/messages/): regenerating
them in memory must give the committed files byte for byte, so a model changed without
`make schemas` fails here (and a hand edit of a schema file too)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic.fields import FieldInfo

from xsell.cli.schemas import SCHEMA_DIR, stale
from xsell.models.messages import outputs
from xsell.models.messages.schemas import MODELS, render

SCHEMA_FILES = sorted(p.name.removesuffix(".schema.json") for p in SCHEMA_DIR.glob("*.json"))


def test_every_schema_file_has_a_model() -> None:
    assert sorted(MODELS) == SCHEMA_FILES


@pytest.mark.parametrize("name", sorted(MODELS))
def test_committed_schema_is_generated(name: str) -> None:
    committed = (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
    assert committed == render(name), f"docs/schemas/{name}.schema.json is stale: make schemas"


def test_a_changed_model_makes_its_file_stale(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The demonstration: change one field's description, the check names that file."""
    for name in MODELS:
        (tmp_path / f"{name}.schema.json").write_text(render(name), encoding="utf-8")
    assert stale(tmp_path) == []
    model = outputs.DeadLetterMessage
    changed = FieldInfo.merge_field_infos(
        model.model_fields["topic"], description="Full name of the input topic (changed)."
    )
    monkeypatch.setitem(model.model_fields, "topic", changed)
    model.model_rebuild(force=True)
    try:
        assert stale(tmp_path) == ["dead-letter"]
        assert (
            "(changed)" in json.loads(render("dead-letter"))["properties"]["topic"]["description"]
        )
    finally:
        monkeypatch.undo()
        model.model_rebuild(force=True)
    assert stale(tmp_path) == []
