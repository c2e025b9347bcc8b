"""Topics of xsell, declared on a Faust app (names come from the settings' prefix)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from config.settings import Settings


@dataclass(frozen=True)
class Topics:
    cart_events: Any
    orders: Any
    catalog: Any
    suggestions: Any
    dead_letter: Any
    feedback: Any


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    """Raw bytes in and out: the agents decode and validate themselves, so malformed input
    reaches the dead letter with its reason instead of crashing a Faust deserialiser."""

    def topic(name: str) -> Any:
        return app.topic(
            settings.topic(name),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.topic_partitions,
            internal=False,
        )

    return Topics(
        topic("cart-events"),
        topic("orders"),
        topic("catalog"),
        topic("suggestions"),
        topic("dead-letter"),
        topic("feedback"),
    )
