"""The topics of config/topics.py, declared on a Faust app (full names from the settings'
prefix, partitions from its one policy)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import faust

from xsell.config.settings import Settings
from xsell.config.topics import TOPICS, TopicSpec, partition_count


@dataclass(frozen=True)
class Topics:
    """Every topic of config/topics.py as a Faust topic, one attribute per logical name
    (``-`` becomes ``_``); building it fails when the two lists disagree."""

    cart_events: Any
    orders: Any
    catalog: Any
    suggestions: Any
    dead_letter: Any
    feedback: Any
    profiles: Any
    notifications: Any

    def named(self, name: str) -> Any:
        """The Faust topic of the logical name ``name`` (``cart-events``)."""
        return getattr(self, attribute(name))


def attribute(name: str) -> str:
    """The :class:`Topics` attribute of a logical topic name."""
    return name.replace("-", "_")


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    """Raw bytes in and out: the agents decode and validate themselves, so malformed input
    reaches the dead letter with its reason instead of crashing a Faust deserialiser."""

    def topic(spec: TopicSpec) -> Any:
        return app.topic(
            settings.topic(spec.name),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partition_count(settings, spec),
            internal=False,
        )

    declared = {attribute(spec.name): topic(spec) for spec in TOPICS}
    missing = {f.name for f in fields(Topics)} ^ set(declared)
    if missing:
        raise RuntimeError(
            f"xsell.streams.topics.Topics and config/topics.py disagree on {missing}"
        )
    return Topics(**declared)
