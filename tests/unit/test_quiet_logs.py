"""Library noise a user cannot act on stays out of the logs; warnings that matter stay in."""

from __future__ import annotations

import asyncio
import logging
import warnings

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
