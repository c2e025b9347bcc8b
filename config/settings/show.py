"""``xsell config``: the effective settings, nested, secrets masked, each with its source.

The sources are read again, in the same precedence as when the settings were built, only to
say which name set each value (a keyword, a variable, a key of the file, or the default);
values always come from the validated settings, so what is shown is what runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from xsell.config.settings.names import GROUPS, env_name
from xsell.config.settings.root import Settings
from xsell.config.settings.sources import KeywordSource, file_sources


def origins(keywords: Mapping[str, Any] | None = None) -> dict[tuple[str, str], str]:
    """(group, field) -> where its value came from, for every setting not left default."""
    sources = [KeywordSource(Settings, keywords or {}), *file_sources(Settings)]
    found: dict[tuple[str, str], str] = {}
    for source in reversed(sources):  # lowest precedence first: higher ones overwrite
        source()
        found.update(source.origins)
    return found


def effective(settings: Settings, keywords: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``{"settings": {group: {field: value}}, "sources": {"group.field": source}}``."""
    where = origins(keywords)
    sources = {
        f"{group}.{field}": where.get((group, field), "default")
        for group, pairs in GROUPS.items()
        for field, _ in pairs
    }
    return {"settings": settings.masked(), "sources": sources}


def as_text(settings: Settings, keywords: Mapping[str, Any] | None = None) -> str:
    """The effective settings as TOML-like text: a table per group, each value followed by
    its source and variable; unset values are comments."""
    shown = effective(settings, keywords)
    lines = ["# xsell effective settings (secrets masked): value  # source; variable"]
    for group, values in shown["settings"].items():
        lines += ["", f"[{group}]"]
        for field, value in values.items():
            source = shown["sources"][f"{group}.{field}"]
            variable = env_name(group, field)
            note = f"# {source}" if variable in source else f"# {source}; {variable}"
            if value is None:
                lines.append(f"# {field} unset  {note}")
            else:
                lines.append(f"{field} = {json.dumps(value)}  {note}")
    return "\n".join(lines)
