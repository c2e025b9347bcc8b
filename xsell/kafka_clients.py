"""Topic administration and a plain producer for the CLI (kafka-python, no event loop)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from config.settings import Settings
from models.errors import XsellError

log = logging.getLogger(__name__)

TOPICS = ("cart-events", "orders", "catalog", "suggestions", "dead-letter")


def security_options(settings: Settings) -> dict[str, Any]:
    """kafka-python's TLS and SASL options from the settings (docs/security.md)."""
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_security_protocol.startswith("SASL_"):
        assert settings.kafka_sasl_password is not None  # checked by Settings
        options.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password.get_secret_value(),
        )
    if settings.kafka_uses_tls:
        options["ssl_check_hostname"] = True
        if settings.kafka_ssl_ca_file:
            options["ssl_cafile"] = settings.kafka_ssl_ca_file
        if settings.kafka_ssl_cert_file:
            options["ssl_certfile"] = settings.kafka_ssl_cert_file
            options["ssl_keyfile"] = settings.kafka_ssl_key_file
    return options


def _client_options(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.broker_list,
        "client_id": f"{settings.app_id}-cli",
        **security_options(settings),
    }


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
                client.create_topics(
                    [NewTopic(topic, settings.topic_partitions, settings.topic_replication)]
                )
                outcome[topic] = "created"
            except TopicAlreadyExistsError:
                outcome[topic] = "exists"
    finally:
        client.close()
    return outcome


def producer(settings: Settings, **extra: Any) -> KafkaProducer:
    """A bytes producer (see :func:`send_json`); idempotence off, which works on every
    Kafka-protocol broker (event ids, not the producer, make effects exactly-once).
    ``extra``: more kafka-python options (e.g. ``max_request_size``)."""
    return KafkaProducer(
        **{
            **_client_options(settings),
            "enable_idempotence": False,
            "acks": "all",
            "linger_ms": 5,
            "retries": 10,
            **extra,
        },
    )


def consumer(settings: Settings, *topics: str, **extra: Any) -> KafkaConsumer:
    """A consumer of the named (logical) topics with the settings' security options."""
    return KafkaConsumer(*(settings.topic(t) for t in topics), **_client_options(settings), **extra)


def send_tombstone(settings: Settings, user_id: str, timeout: float = 30.0) -> int:
    """Send (key=user_id, value=null) to the suggestions topic: on a compacted topic the
    user's earlier suggestions are removed by compaction (docs/security.md). Returns the
    partition it landed in (the same as the user's suggestions: same key, same hash)."""
    prod = producer(settings)
    try:
        meta = prod.send(settings.topic("suggestions"), key=user_id.encode(), value=None).get(
            timeout
        )
        return int(meta.partition)
    finally:
        prod.close()


def send_json(prod: KafkaProducer, topic: str, key: str | None, value: Any) -> Any:
    """Send ``value`` as JSON (bytes are sent as they are); returns the send future."""
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    return prod.send(topic, key=None if key is None else key.encode(), value=data)
