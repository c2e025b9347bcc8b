"""Serving the API: uvicorn with uvloop and httptools, one process (scale out by running more
of them behind a load balancer: they share nothing but Redis and Kafka)."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from xsell.api.app import create_app
from xsell.config.safety import api_unsafe_reasons
from xsell.config.settings import Settings, require_safe
from xsell.kafka_clients import wait_for_kafka
from xsell.store import require_redis

log = logging.getLogger(__name__)
REDIS_START_SECONDS = 5.0  # how long the API asks Redis at start before one line and exit


def run_api(settings: Settings) -> None:
    """Serve until stopped (SIGTERM, Ctrl-C); refuses an unsafe setup first."""
    require_safe(settings, settings.unsafe_reasons() + api_unsafe_reasons(settings))
    wait_for_kafka(settings).close()  # a broker still starting is waited for, within a bound
    asyncio.run(require_redis(settings, REDIS_START_SECONDS))
    uvicorn.run(
        create_app(settings),
        host=settings.api.host,
        port=settings.api.port,
        loop="uvloop",
        http="httptools",
        log_level=settings.ops.log_level.lower(),
        access_log=False,  # Prometheus counts every request (/metrics)
        lifespan="on",
    )
