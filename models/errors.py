"""The one exception hierarchy of xsell."""

from __future__ import annotations


class XsellError(Exception):
    """Base of every error xsell raises on purpose."""


class InvalidEvent(XsellError):
    """An input record that is not a valid event; it goes to the dead letter with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConfigError(XsellError):
    """The configuration is invalid or unsafe."""


class StoreUnavailable(XsellError):
    """Redis could not be reached within the configured retry budget."""
