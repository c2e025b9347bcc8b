"""Logging configuration for the command-line entry points."""

from __future__ import annotations

import logging

# Client libraries whose INFO lines say nothing a user can act on (kafka-python logs ~19 per
# start: bootstrap, API version probes, connection states); their warnings and errors stay.
QUIET_BELOW_WARNING = ("kafka",)


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if logging.getLogger().level > logging.DEBUG:  # DEBUG: everything, for a bug report
        for name in QUIET_BELOW_WARNING:
            logging.getLogger(name).setLevel(logging.WARNING)
