"""Kafka TLS / SASL for the Faust worker (aiokafka) from the settings.

The CLI's kafka-python clients take the same settings as keyword options
(:func:`xsell.kafka_clients.security_options`); Redis TLS and ACL users are options of the Redis
client (:func:`xsell.store.client.client_options`). docs/security.md explains the choices.
"""

from __future__ import annotations

import ssl
from typing import Any

import faust

from config.settings import Settings


def kafka_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A verifying client TLS context (CA file or the system's CAs, optional client
    certificate), or None when the Kafka protocol has no TLS."""
    if not settings.kafka_uses_tls:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=settings.kafka_ssl_ca_file)
    if settings.kafka_ssl_cert_file:
        context.load_cert_chain(settings.kafka_ssl_cert_file, settings.kafka_ssl_key_file)
    return context


def faust_credentials(settings: Settings) -> Any:
    """``broker_credentials`` of the Faust app: SASLCredentials (SASL_PLAINTEXT / SASL_SSL),
    SSLCredentials (SSL) or None (PLAINTEXT)."""
    context = kafka_ssl_context(settings)
    if settings.kafka_security_protocol.startswith("SASL_"):
        assert settings.kafka_sasl_password is not None  # checked by Settings
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.get_secret_value(),
            ssl_context=context,
            mechanism=settings.kafka_sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None
