"""What the worker writes to Redis once Kafka has acknowledged a batch's outputs: each user's
latest suggestion (the API reads it), the offers of each message into the user's attribution
ledger and the day's suggestion counters, and the minute's figures for the dashboard. Two
pipelined round trips per batch: the ledger answers (the user's pseudonym) feed the counters."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from xsell.store import BatchFigures, Published, Store
from xsell.streams.handler import Output, Record


async def record_outputs(
    store: Store, topic: str, records: Sequence[Record], out: Output, published: Sequence[Published]
) -> None:
    """After delivery: latest suggestions, offers, counters and figures (module doc)."""
    messages = [m for _, m in out.suggestions if m is not None]
    now = time.time()
    latencies = [(now - r.timestamp) * 1000 for r in records if r.timestamp is not None]
    figures = BatchFigures(
        topic,
        len(records),
        len(messages),
        len(out.dead_letters),
        latencies if messages else (),
        now,
    )
    await store.attribution.record_outputs(
        published, figures, messages, [_trigger_ts(m, out) for m in messages]
    )


def _trigger_ts(message: dict[str, Any], out: Output) -> float:
    """The trigger's event time (offers are dated in event time, like what they attribute)."""
    return out.event_ts.get(message["trigger"]["event_id"], time.time())
