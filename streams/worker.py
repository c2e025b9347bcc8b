"""``xsell worker``: run the Faust worker with the settings."""

from __future__ import annotations

import logging

import faust

from xsell.config.settings import Settings, require_safe
from xsell.kafka_clients import wait_for_kafka
from xsell.streams.app import create_app

log = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    """Run the worker in this process until it is stopped (SIGTERM, Ctrl-C)."""
    require_safe(settings)
    log.info("xsell worker starting with %s", settings.masked())
    wait_for_kafka(settings).close()  # a broker still starting is waited for, within a bound
    app, _ = create_app(settings)
    worker = faust.Worker(app, loglevel=settings.ops.log_level.lower(), quiet=True)
    worker.execute_from_commandline()
