"""Every Kafka client of xsell, with the settings' TLS and SASL options (docs/security.md).

- kafka-python (no event loop) for the commands: topic administration, a plain producer and
  consumer, the committed offsets of the workers' group, a tombstone, a reachability probe;
- aiokafka through Faust for the worker: :func:`faust_credentials`.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from xsell.config.settings import Settings
from xsell.config.topics import names as topic_names
from xsell.config.topics import partition_count, topic_spec
from xsell.models.errors import XsellError
from xsell.retrying import Failure, RetryPolicy, retry_sync

log = logging.getLogger(__name__)

TOPICS = topic_names()  # every logical topic name, declared in config/topics.py


def security_options(settings: Settings) -> dict[str, Any]:
    """kafka-python's TLS and SASL options from the settings (docs/security.md)."""
    options: dict[str, Any] = {"security_protocol": settings.kafka.security_protocol}
    if settings.kafka.security_protocol.startswith("SASL_"):
        assert settings.kafka.sasl_password is not None  # checked by Settings
        options.update(
            sasl_mechanism=settings.kafka.sasl_mechanism,
            sasl_plain_username=settings.kafka.sasl_username,
            sasl_plain_password=settings.kafka.sasl_password.get_secret_value(),
        )
    if settings.kafka.uses_tls:
        options["ssl_check_hostname"] = True
        if settings.kafka.ssl_ca_file:
            options["ssl_cafile"] = settings.kafka.ssl_ca_file
        if settings.kafka.ssl_cert_file:
            options["ssl_certfile"] = settings.kafka.ssl_cert_file
            options["ssl_keyfile"] = settings.kafka.ssl_key_file
    return options


def _client_options(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.kafka.broker_list,
        "client_id": f"{settings.kafka.app_id}-cli",
        **security_options(settings),
    }


def require_kafka(settings: Settings) -> None:
    """Raise XsellError (one line) when no bootstrap broker accepts a connection."""
    down = unreachable(settings)
    if down:
        raise XsellError(f"{down} (XSELL_KAFKA_BROKERS)")


def admin(settings: Settings, timeout: float | None = None) -> KafkaAdminClient:
    """An admin client, once a broker answers: :func:`wait_for_kafka`."""
    return wait_for_kafka(settings, timeout)


def wait_for_kafka(settings: Settings, timeout: float | None = None) -> KafkaAdminClient:
    """An admin client (a broker has answered a metadata request); while none does, one
    warning line per failed try and the start-up policy's pauses
    (:meth:`xsell.retrying.RetryPolicy.startup`) for at most ``timeout`` seconds
    (XSELL_KAFKA_STARTUP_TIMEOUT_SECONDS by default), then XsellError in one line. The
    worker, the API and ``xsell topics create`` wait here before their clients start, so a
    broker that is still starting is waited for, and one that is down is said in one line
    instead of a client library's traceback."""
    budget = settings.kafka.startup_timeout_seconds if timeout is None else timeout
    where = settings.kafka.servers

    def attempt() -> KafkaAdminClient:
        down = unreachable(settings)
        if down is not None:
            raise _BrokerDown(down)
        return KafkaAdminClient(**_client_options(settings), request_timeout_ms=10000)

    def waiting(failure: Failure) -> None:
        log.warning(
            "waiting for Kafka (%.0fs of %gs): %s; next try in %.1fs",
            failure.elapsed,
            budget,
            _reason(failure.error, where),
            failure.delay,
        )

    policy = RetryPolicy.startup((_BrokerDown, KafkaError), budget)
    try:
        return retry_sync(attempt, policy, waiting).value
    except (_BrokerDown, KafkaError) as exc:
        raise XsellError(
            f"{_reason(exc, where)}; gave up after {budget:g}s "
            "(XSELL_KAFKA_BROKERS, XSELL_KAFKA_STARTUP_TIMEOUT_SECONDS)"
        ) from None


def _reason(error: BaseException, where: str) -> str:
    """Why a try failed, in words: the TCP probe's own text, or the client's error."""
    if isinstance(error, _BrokerDown):
        return str(error)
    return f"Kafka at {where}: {type(error).__name__}{f' ({error})' if str(error) else ''}"


class _BrokerDown(Exception):
    """No bootstrap broker accepts a TCP connection (the text says why): retried by
    :func:`wait_for_kafka`, never seen outside it."""


def create_topics(settings: Settings, names: Iterable[str] = TOPICS) -> dict[str, str]:
    """Create the xsell topics (prefix + name; every topic of config/topics.py by default)
    with the partitions policy's counts and ``XSELL_TOPIC_REPLICATION`` replicas.

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
                partitions = partition_count(settings, topic_spec(name))
                client.create_topics(
                    [NewTopic(topic, partitions, settings.kafka.topic_replication)]
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
    require_kafka(settings)
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


def kafka_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A verifying client TLS context (CA file or the system's CAs, optional client
    certificate), or None when the Kafka protocol has no TLS."""
    if not settings.kafka.uses_tls:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=settings.kafka.ssl_ca_file)
    if settings.kafka.ssl_cert_file:
        context.load_cert_chain(settings.kafka.ssl_cert_file, settings.kafka.ssl_key_file)
    return context


def aiokafka_security(settings: Settings) -> dict[str, Any]:
    """aiokafka's TLS and SASL options (the API's producer and consumer)."""
    options: dict[str, Any] = {"security_protocol": settings.kafka.security_protocol}
    context = kafka_ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka.security_protocol.startswith("SASL_"):
        assert settings.kafka.sasl_password is not None  # checked by Settings
        options.update(
            sasl_mechanism=settings.kafka.sasl_mechanism,
            sasl_plain_username=settings.kafka.sasl_username,
            sasl_plain_password=settings.kafka.sasl_password.get_secret_value(),
        )
    return options


def faust_credentials(settings: Settings) -> Any:
    """``broker_credentials`` of the Faust app: SASLCredentials (SASL_PLAINTEXT / SASL_SSL),
    SSLCredentials (SSL) or None (PLAINTEXT)."""
    import faust  # only the worker needs it; the commands would pay its import for nothing

    context = kafka_ssl_context(settings)
    if settings.kafka.security_protocol.startswith("SASL_"):
        assert settings.kafka.sasl_password is not None  # checked by Settings
        return faust.SASLCredentials(
            username=settings.kafka.sasl_username,
            password=settings.kafka.sasl_password.get_secret_value(),
            ssl_context=context,
            mechanism=settings.kafka.sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def unreachable(settings: Settings, timeout: float = 3.0) -> str | None:
    """None when a TCP connection to one of the bootstrap brokers opens within ``timeout``;
    else why not, in one line. Commands ask this first, so that a broker that is down is said
    once, at once, instead of after the clients' own retries and their connection logs."""
    errors = []
    for hostport in settings.kafka.broker_list:
        host, _, port = hostport.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return None
        except (OSError, ValueError) as exc:
            errors.append(f"{hostport}: {exc}")
    return "Kafka unreachable at " + "; ".join(errors)


def group_committed_orders(settings: Settings, timeout: float = 5.0) -> bool | None:
    """Whether the workers' consumer group has committed an offset > 0 on the orders topic
    (None: could not tell, e.g. Kafka unreachable or no permission to describe the group)."""
    down = unreachable(settings, timeout=min(timeout, 3.0))
    if down:
        log.warning("cannot read the committed offsets of %r: %s", settings.kafka.app_id, down)
        return None
    try:
        client = admin(settings, timeout=timeout)
    except Exception as exc:
        log.warning("cannot read the committed offsets of %r: %s", settings.kafka.app_id, exc)
        return None
    try:
        if hasattr(client, "list_group_offsets"):  # kafka-python >= 3
            offsets = client.list_group_offsets(settings.kafka.app_id).get(
                settings.kafka.app_id, {}
            )
        else:
            offsets = client.list_consumer_group_offsets(settings.kafka.app_id)
        topic = settings.topic("orders")
        return any(tp.topic == topic and meta.offset > 0 for tp, meta in offsets.items())
    except Exception as exc:
        log.warning("cannot read the committed offsets of %r: %s", settings.kafka.app_id, exc)
        return None
    finally:
        client.close()


def kafka_has_records(
    settings: Settings, topic: str = "orders", timeout: float = 10.0
) -> bool | None:
    """Whether ``topic`` holds any record (None: Kafka did not answer). Uses begin/end offsets
    only, which is exact enough for "any record" even on brokers whose end offset is the last
    batch's base offset + 1."""
    down = unreachable(settings, timeout=min(timeout, 3.0))
    if down:
        log.warning("%s", down)
        return None
    try:
        cons = consumer(
            settings,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=int(timeout * 1000) + 1000,
        )
    except Exception as exc:
        log.warning("Kafka at %s: %s", settings.kafka.servers, exc)
        return None
    try:
        parts = cons.partitions_for_topic(settings.topic(topic)) or set()
        tps = [TopicPartition(settings.topic(topic), p) for p in sorted(parts)]
        if not tps:
            return False
        begin = cons.beginning_offsets(tps)
        end = cons.end_offsets(tps)
        return any(end[tp] > begin[tp] for tp in tps)
    except Exception as exc:
        log.warning("Kafka at %s: %s", settings.kafka.servers, exc)
        return None
    finally:
        cons.close()
