"""What ``xsell rules`` does (docs/rules.md): read a rules file, and preview a request's
offers with the saved rules and without any, through the engine's one ranking path."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from xsell.config.settings import Settings
from xsell.engine import Engine, offer_json
from xsell.models.errors import XsellError
from xsell.models.messages.merchant import Rule
from xsell.models.ranking import RankRequest
from xsell.store import Store, state_clock


def read_rules(path: str) -> list[Rule]:
    """The rules of a JSON file: one rule, or an array of rules. A bad one is refused with
    its place and reason (nothing is saved)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise XsellError(f"{path}: {exc}") from None
    rules = data if isinstance(data, list) else [data]
    out: list[Rule] = []
    for n, raw in enumerate(rules):
        try:
            out.append(Rule.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise XsellError(f"{path}: rule {n}: {where}: {first['msg']}") from None
    return out


async def preview(
    store: Store,
    settings: Settings,
    items: Sequence[str],
    placement: str,
    user_id: str | None = None,
    segment: str | None = None,
) -> dict[str, Any]:
    """The offers for ``items`` (a cart, in added order) with the saved rules and without."""
    engine = Engine(store, settings)
    clock = await state_clock(store)
    anchors = list(dict.fromkeys(items))[::-1]
    now = clock.latest or time.time()
    request = RankRequest(anchors, frozenset(anchors), now, user_id, placement, segment)
    saved = await store.rules.read()
    (with_rules,) = await engine.rank([request], rules=saved.rules)
    (without,) = await engine.rank([request], rules=())
    return {
        "version": saved.version,
        "with_rules": [offer_json(o) for o in with_rules],
        "without_rules": [offer_json(o) for o in without],
    }
