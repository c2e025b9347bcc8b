"""Logging configuration for the command-line entry points."""

from __future__ import annotations

import logging
from collections.abc import Iterable

# Client libraries whose INFO lines say nothing a user can act on (kafka-python logs ~19 per
# start: bootstrap, API version probes, connection states); their warnings and errors stay.
QUIET_BELOW_WARNING = ("kafka",)
REDACTED = "***"
SHORTEST_REDACTED = 4  # shorter values would blank ordinary words (settings refuse them anyway)


def setup_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """The format and level of every command; ``secrets`` (``Settings.secret_values()``)
    never appear in a log line, whoever logs them (kafka-python prints its whole
    configuration, SASL password included, at DEBUG)."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if logging.getLogger().level > logging.DEBUG:  # DEBUG: everything, for a bug report
        for name in QUIET_BELOW_WARNING:
            logging.getLogger(name).setLevel(logging.WARNING)
    redact_secrets(secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***``, longest first (so a secret that
    contains another is replaced whole)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= SHORTEST_REDACTED:
            text = text.replace(secret, REDACTED)
    return text


def redact_secrets(secrets: Iterable[str]) -> None:
    """Redact ``secrets`` from every log record, at its creation: a record factory, not a
    handler filter, so it holds for the handlers a framework installs later (Faust's)."""
    wanted = tuple(s for s in secrets if len(s) >= SHORTEST_REDACTED)
    if not wanted:
        return
    make = logging.getLogRecordFactory()
    if getattr(make, "redacts", None) is not None:  # installed before: replace, not stack
        make = make.redacts  # type: ignore[attr-defined]

    def record(*args: object, **kwargs: object) -> logging.LogRecord:
        rec = make(*args, **kwargs)
        text = rec.getMessage()
        clean = redact(text, wanted)
        if clean != text:
            rec.msg, rec.args = clean, ()
        return rec

    record.redacts = make  # type: ignore[attr-defined]
    logging.setLogRecordFactory(record)
