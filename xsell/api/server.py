"""Serving the API: uvicorn with uvloop and httptools, one process (scale out by running more
of them behind a load balancer: they share nothing but Redis and Kafka)."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from xsell.api.app import create_app
from xsell.config.safety import api_unsafe_reasons
from xsell.config.settings import Settings, mask_url, require_safe
from xsell.kafka_clients import wait_for_kafka
from xsell.models.errors import XsellError
from xsell.store import ping_redis

log = logging.getLogger(__name__)


def run_api(settings: Settings) -> None:
    """Serve until stopped (SIGTERM, Ctrl-C); refuses an unsafe setup first."""
    require_safe(settings, settings.unsafe_reasons() + api_unsafe_reasons(settings))
    wait_for_kafka(settings).close()  # a broker still starting is waited for, within a bound
    asyncio.run(_require_redis(settings))
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


async def _require_redis(settings: Settings, timeout: float = 5.0) -> None:
    """One line and a non-zero exit when Redis does not answer a PING at start (the app's
    start-up would otherwise fail with the client's traceback)."""
    try:
        await ping_redis(settings, timeout)
    except Exception as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else str(exc) or repr(exc)
        raise XsellError(
            f"Redis unreachable at {mask_url(settings.redis.url)}: {reason} (XSELL_REDIS_URL)"
        ) from None
