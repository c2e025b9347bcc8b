"""Topic administration and a plain producer for the CLI (kafka-python, no event loop)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from config.settings import Settings
from models.errors import XsellError

log = logging.getLogger(__name__)

TOPICS = ("cart-events", "orders", "catalog", "suggestions", "dead-letter")


def _client_options(settings: Settings) -> dict[str, Any]:
    return {"bootstrap_servers": settings.broker_list, "client_id": f"{settings.app_id}-cli"}


def admin(settings: Settings, timeout: float = 30.0) -> KafkaAdminClient:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return KafkaAdminClient(**_client_options(settings), request_timeout_ms=10000)
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise XsellError(f"Kafka at {settings.kafka_brokers}: {exc}") from exc
            log.info("waiting for Kafka at %s: %s", settings.kafka_brokers, exc)
            time.sleep(0.5)


def create_topics(settings: Settings, names: Iterable[str] = TOPICS) -> dict[str, str]:
    """Create the xsell topics (prefix + name) with their partition counts.

    Returns topic -> "created" | "exists". Idempotent.
    """
    client = admin(settings)
    outcome: dict[str, str] = {}
    try:
        existing = set(client.list_topics())
        for name in names:
            topic = settings.topic(name)
            if topic in existing:
                outcome[topic] = "exists"
                continue
            try:
                client.create_topics([NewTopic(topic, settings.topic_partitions,
                                               settings.topic_replication)])
                outcome[topic] = "created"
            except TopicAlreadyExistsError:
                outcome[topic] = "exists"
    finally:
        client.close()
    return outcome


def producer(settings: Settings) -> KafkaProducer:
    """A bytes producer (see :func:`send_json`); idempotence off, which works on every
    Kafka-protocol broker (event ids, not the producer, make effects exactly-once)."""
    return KafkaProducer(
        **_client_options(settings),
        enable_idempotence=False,
        acks="all",
        linger_ms=5,
        retries=10,
    )


def send_json(prod: KafkaProducer, topic: str, key: str | None, value: Any) -> Any:
    """Send ``value`` as JSON (bytes are sent as they are); returns the send future."""
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    return prod.send(topic, key=None if key is None else key.encode(), value=data)
