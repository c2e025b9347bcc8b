"""The worker's error policy (in the manner of quix-streams' error callbacks).

Each failure is logged with topic/partition/offset and given one explicit action:

- ``InvalidEvent`` -> DEAD_LETTER: the record goes to the dead-letter topic with its reason and
  the worker moves on;
- ``StoreUnavailable`` (Redis unreachable for longer than ``redis_retry_seconds``) -> FATAL:
  the process exits *without* acknowledging, so Kafka redelivers once it is restarted;
- any other exception -> RETRY_ALONE: the batch is retried event by event (effects are
  idempotent), and an event that still fails on its own goes to the dead letter as
  ``internal error: ...`` instead of crash-looping the worker on a poison record.
"""

from __future__ import annotations

import enum
import logging

from xsell.models.errors import InvalidEvent, StoreUnavailable

log = logging.getLogger(__name__)


class FailureAction(enum.Enum):
    """What the worker does about a failed record or batch (see the module doc)."""

    DEAD_LETTER = "dead_letter"
    RETRY_ALONE = "retry_alone"
    FATAL = "fatal"


def failure_action(exc: BaseException, where: str) -> FailureAction:
    """Decide what to do about ``exc`` raised at ``where`` (topic[partition]@offset)."""
    if isinstance(exc, InvalidEvent):
        log.debug("invalid event at %s: %s", where, exc.reason)
        return FailureAction.DEAD_LETTER
    if isinstance(exc, StoreUnavailable):
        log.critical("giving up at %s: %s; exiting without committing", where, exc)
        return FailureAction.FATAL
    log.error("processing failed at %s: %r", where, exc, exc_info=exc)
    return FailureAction.RETRY_ALONE
