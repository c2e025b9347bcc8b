"""Library noise a user cannot act on stays out of the logs; warnings that matter stay in."""

from __future__ import annotations

import asyncio
import logging
import warnings

import pytest

from xsell.config.logs import setup_logging
from xsell.config.settings import load_settings
from xsell.store.backend.client import connect


def test_the_redis_client_is_built_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # redis-py's "synchronous Retry" UserWarning fails it
        client = connect(load_settings(redis_url="redis://127.0.0.1:1/0"))
    asyncio.run(client.aclose())


def test_kafka_python_says_only_warnings_unless_debugging() -> None:
    kafka = logging.getLogger("kafka")
    try:
        setup_logging("INFO")
        assert not kafka.isEnabledFor(logging.INFO)
        assert kafka.isEnabledFor(logging.WARNING)
    finally:
        kafka.setLevel(logging.NOTSET)


def test_secrets_never_reach_a_log_line_whoever_logs_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from xsell.config.logs import redact_secrets
    from xsell.config.settings import load_settings

    settings = load_settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="xsell",
        kafka_sasl_password="scram-pw-0123456789",
        redis_url="redis://app:redis-pw-0123@localhost:6379/0",
    )
    assert {"scram-pw-0123456789", "redis-pw-0123"} <= set(settings.secret_values())
    before = logging.getLogRecordFactory()
    try:
        redact_secrets(settings.secret_values())
        with caplog.at_level(logging.DEBUG, logger="kafka.test"):
            logging.getLogger("kafka.test").debug("config %s", {"sasl": "scram-pw-0123456789"})
            logging.getLogger("kafka.test").debug("url redis://app:redis-pw-0123@h")
    finally:
        logging.setLogRecordFactory(before)
    text = caplog.text
    assert "scram-pw" not in text and "redis-pw" not in text
    assert "{'sasl': '***'}" in text and "app:***@h" in text
