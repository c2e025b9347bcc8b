"""Every Kafka topic of xsell, declared once.

Everything else derives from :data:`TOPICS`: the topics ``xsell topics create`` makes
(``xsell/kafka_clients.py``), the topics the worker declares and its agents read
(``streams/topics.py``), and the topic tables of docs/contract.md and docs/architecture.md
(``tests/unit/test_topics.py`` fails when a document and this list disagree).

Names: the full name is ``XSELL_TOPIC_PREFIX`` + the logical name (``Settings.topic``).
Partitions: every topic gets ``XSELL_TOPIC_PARTITIONS`` partitions and
``XSELL_TOPIC_REPLICATION`` replicas (:func:`partition_count`): the workers consume the input
topics as one consumer group, and a record's key (a user or item id) picks its partition, so
one user's (or item's) records stay in order on one worker. Values are raw JSON bytes whose
shape is the message's JSON Schema in docs/schemas/.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class Direction(enum.Enum):
    """Seen from the worker: ``IN`` topics it consumes, ``OUT`` topics it produces."""

    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic: its logical name, direction, key, message, who writes and reads it, why."""

    name: str  # logical; the full name is XSELL_TOPIC_PREFIX + name
    direction: Direction
    key: str | None  # the record key, which picks the partition (None: no key)
    message: str  # docs/schemas/<message>.schema.json; the link text in docs/contract.md
    message_label: str
    written_by: str
    read_by: str
    purpose: str
    agent: str | None = None  # the worker's Faust agent of an input topic

    @property
    def schema_path(self) -> str:
        """The value's JSON Schema, relative to docs/."""
        return f"schemas/{self.message}.schema.json"


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "cart-events", Direction.IN, "user_id", "cart-event", "cart event", "shop", "worker",
        "add-to-cart and remove-from-cart: update the cart and the co-add pairs, suggest",
        agent="xsell.cart",
    ),
    TopicSpec(
        "orders", Direction.IN, "user_id", "order-event", "purchase or forget_user",
        "shop, `xsell replay`", "worker",
        "purchases (learn the pairs, suggest after the purchase) and forget_user",
        agent="xsell.orders",
    ),
    TopicSpec(
        "catalog", Direction.IN, "item_id", "catalog-item", "catalog item", "shop", "worker",
        "category, price, stock and name of an item (latest value wins)",
        agent="xsell.catalog",
    ),
    TopicSpec(
        "suggestions", Direction.OUT, "user_id", "suggestion", "suggestion", "worker", "shop",
        "up to `XSELL_MAX_SUGGESTIONS` offers per add-to-cart and per purchase",
    ),
    TopicSpec(
        "dead-letter", Direction.OUT, None, "dead-letter", "dead letter", "worker", "operators",
        "an input record the worker could not use, with the reason",
    ),
    TopicSpec(
        "feedback", Direction.IN, "user_id", "feedback", "feedback",
        "storefront (`/widget.js`), shop", "worker",
        "impressions, clicks and dismissals of offers (attribution, experiments)",
        agent="xsell.feedback",
    ),
    TopicSpec(
        "profiles", Direction.IN, "user_id", "profile", "profile", "shop", "worker",
        "a user's time zone and consent per channel (notifications)",
        agent="xsell.profiles",
    ),
    TopicSpec(
        "notifications", Direction.OUT, "user_id", "notification", "notification", "worker",
        "push, email, SMS, Zalo senders",
        "cart-abandonment and post-purchase notifications that are due",
    ),
)  # fmt: skip
# The worker's own input topics besides the profiles, each read by one batch agent of
# streams/app.py (the profiles agent lives in streams/notify.py).
BATCH_INPUTS = ("cart-events", "orders", "catalog", "feedback")


class _PartitionKafka(Protocol):
    @property
    def topic_partitions(self) -> int: ...


class PartitionSettings(Protocol):
    """The settings the partitions policy reads (xsell.config.settings.Settings has them)."""

    @property
    def kafka(self) -> _PartitionKafka: ...


def topic_spec(name: str) -> TopicSpec:
    """The declaration of the logical topic ``name`` (KeyError: not a topic of xsell)."""
    for spec in TOPICS:
        if spec.name == name:
            return spec
    raise KeyError(f"no topic {name!r} in config/topics.py")


def names(direction: Direction | None = None) -> tuple[str, ...]:
    """Logical names of every topic (of one direction), in declaration order."""
    return tuple(t.name for t in TOPICS if direction is None or t.direction is direction)


def partition_count(settings: PartitionSettings, spec: TopicSpec) -> int:
    """Partitions of ``spec``: today one policy for every topic, ``XSELL_TOPIC_PARTITIONS``
    (topics and workers must agree; create the topics before the workers consume). Asked
    per topic so that a topic with a policy of its own changes this function only."""
    return settings.kafka.topic_partitions
