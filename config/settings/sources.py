"""Where settings come from, each source remembering which name set each value.

Precedence, highest first: keywords (``load_settings(redis_url=...)``, the command line),
``XSELL_*`` environment variables, the TOML file named by ``XSELL_CONFIG``, the defaults.
Every source accepts the flat names (``XSELL_REDIS_URL``, ``redis_url = ...``) that
deployments use and the nested ones (``XSELL_REDIS__URL``, a ``[redis]`` table), and
answers in the nested shape, so pydantic-settings merges them field by field. Each records
its ``origins`` for ``xsell config``.
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from xsell.config.settings.names import FLAT, GROUPS, NESTED, env_name, nested_env_name
from xsell.models.errors import ConfigError

log = logging.getLogger(__name__)

Origins = dict[tuple[str, str], str]

# Settings whose variable holds JSON (an object); list settings take JSON when the text
# starts with "[" (as pydantic-settings read them) and comma-separated text otherwise.
JSON_SETTINGS = frozenset({("feedback", "experiment")})
LIST_SETTINGS = frozenset(
    {
        ("kafka", "brokers"),
        ("ranking", "consumable_categories"),
        ("tuning", "recency"),
        ("tuning", "category_backoff"),
        ("tuning", "max_rebuys"),
        ("notify", "channels"),
        ("notify", "default_consent"),
        ("api", "public_keys"),
        ("api", "cors_origins"),
    }
)


class _Source(PydanticBaseSettingsSource):
    """A source that builds its whole (nested) answer at once in ``__call__``."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.origins: Origins = {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ answers for every field

    def __call__(self) -> dict[str, Any]:
        raise NotImplementedError


class KeywordSource(_Source):
    """Keyword arguments, flat or nested (the command line's overrides come this way)."""

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self.values = dict(values)

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if key in FLAT:
                group, field = FLAT[key]
                out.setdefault(group, {})[field] = value
                self.origins[(group, field)] = f"keyword {key}"
            elif key in GROUPS and isinstance(value, Mapping):
                out.setdefault(key, {}).update(value)
                for field in value:
                    self.origins[(key, str(field))] = f"keyword {key}.{field}"
            else:
                out[key] = value  # a whole group object, or unknown (validation rejects it)
        return out


class EnvSource(_Source):
    """``XSELL_*`` variables, case-insensitive; unknown ``XSELL_*`` names are ignored."""

    def __call__(self) -> dict[str, Any]:
        env = {name.lower(): (name, value) for name, value in os.environ.items()}
        out: dict[str, Any] = {}
        for group, field in NESTED:
            found = [
                env[name.lower()]
                for name in (env_name(group, field), nested_env_name(group, field))
                if name.lower() in env
            ]
            if not found:
                continue
            if len({value for _, value in found}) > 1:
                raise ConfigError(
                    f"{found[0][0]} and {found[1][0]} are both set, to different values"
                )
            name, text = found[0]
            out.setdefault(group, {})[field] = _decode(group, field, name, text)
            self.origins[(group, field)] = f"env {name}"
        return out


def _decode(group: str, field: str, name: str, text: str) -> Any:
    if (group, field) in JSON_SETTINGS or (
        (group, field) in LIST_SETTINGS and text.lstrip().startswith("[")
    ):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{name}: not valid JSON ({exc})") from None
    return text


class TomlSource(_Source):
    """The TOML file: flat keys (``redis_url = ...``) and, additively, feature tables
    (``[redis]`` ``url = ...``); the ``[experiment]`` table is the flat key ``experiment``."""

    def __init__(self, settings_cls: type[BaseSettings], path: str) -> None:
        super().__init__(settings_cls)
        self.path = path

    def __call__(self) -> dict[str, Any]:
        with Path(self.path).open("rb") as file:
            data = tomllib.load(file)
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in FLAT:
                group, field = FLAT[key]
                out.setdefault(group, {})[field] = value
                self.origins[(group, field)] = f"file {self.path}: {key}"
            elif key in GROUPS and isinstance(value, dict):
                out.setdefault(key, {}).update(value)
                for field in value:
                    self.origins[(key, field)] = f"file {self.path}: [{key}] {field}"
            else:
                out[key] = value  # unknown: validation rejects it (extra="forbid")
        return out


def config_path() -> str | None:
    """The TOML file named by ``XSELL_CONFIG``; a missing file is an error at start."""
    path = os.environ.get("XSELL_CONFIG")
    if path and not Path(path).is_file():
        raise FileNotFoundError(f"XSELL_CONFIG={path!r}: no such file")
    return path or None


def file_sources(settings_cls: type[BaseSettings]) -> tuple[_Source, ...]:
    """The environment and the TOML file (if any), in that precedence."""
    path = config_path()
    tail: tuple[_Source, ...] = (TomlSource(settings_cls, path),) if path else ()
    return (EnvSource(settings_cls), *tail)
