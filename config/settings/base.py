"""What every settings group shares: frozen, strict about unknown keys, never printing a
secret, and the small parsers of the comma-separated text formats the variables use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from xsell.config.safety import mask_url, url_password


class Group(BaseModel):
    """One feature's settings (``settings.redis``, ``settings.notify`` ...)."""

    # hide_input_in_errors: str(ValidationError) never echoes a value (it may be a secret)
    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, validate_default=True
    )

    def masked(self) -> dict[str, Any]:
        """This group as plain values that are safe to print or log."""
        data = self.model_dump(mode="json")
        for key, value in data.items():
            if isinstance(getattr(self, key), SecretStr) or (
                key.endswith("password") and value is not None
            ):
                data[key] = "***"
            elif key == "url" and isinstance(value, str):
                data[key] = mask_url(value)
        return data

    def __repr_args__(self) -> Any:  # keeps repr()/str() free of secrets
        return list(self.masked().items())

    def secret_values(self) -> list[str]:
        """The values :meth:`masked` hides (secrets, passwords, a URL's password), so the
        logs can redact them wherever a library prints them (config/logs.py)."""
        values: list[str] = []
        for key in type(self).model_fields:
            value = getattr(self, key)
            if isinstance(value, SecretStr):
                values += [v.strip() for v in value.get_secret_value().split(",")]
            elif key.endswith("password") and isinstance(value, str):
                values.append(value)
            elif key == "url" and isinstance(value, str):
                values.append(url_password(value))
        return [v for v in values if v]


def comma_items(value: Any) -> tuple[str, ...]:
    """``"a, b,"`` -> ('a', 'b'); a list or tuple (TOML array, keyword) is taken as it is."""
    if isinstance(value, str):
        parts: Iterable[Any] = value.split(",")
    elif isinstance(value, list | tuple | set | frozenset):
        parts = value
    else:
        raise ValueError("expected a comma-separated text or a list")
    return tuple(str(p).strip() for p in parts if str(p).strip())


def safe_name(value: str) -> str:
    """Names that end up in topic names, Redis keys and consumer groups: no Redis Cluster
    hash tags, patterns or whitespace."""
    if any(c in value for c in "{}* \t\r\n"):
        raise ValueError("must not contain braces, '*' or whitespace")
    return value
