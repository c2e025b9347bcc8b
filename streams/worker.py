"""``xsell worker``: run the Faust worker with the settings."""

from __future__ import annotations

import logging
import os

import faust

from config.settings import Settings
from models.errors import ConfigError
from streams.app import create_app

log = logging.getLogger(__name__)


def check_safe(settings: Settings) -> None:
    """Refuse an obviously unsafe production setup unless ``allow_unsafe`` is set."""
    reasons = settings.unsafe_reasons()
    if reasons and not settings.allow_unsafe:
        raise ConfigError(
            "unsafe configuration: "
            + "; ".join(reasons)
            + " (set XSELL_ALLOW_UNSAFE=true to run anyway)"
        )


def run_worker(settings: Settings) -> None:
    check_safe(settings)
    mode = os.environ.get("XSELL_WORKER_MODE")  # hidden: `xsell bench` agents only
    if mode:
        from xsell.bench.agents import bench_app

        app = bench_app(settings, mode)
    else:
        app, _ = create_app(settings)
    log.info("xsell worker starting with %s", settings.masked())
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), quiet=True)
    worker.execute_from_commandline()
