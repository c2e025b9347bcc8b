"""The notification counters of the worker's Prometheus endpoint (docs/contract.md, "Metrics").

The same counts, summed over every worker, are kept in Redis for ``xsell status``
(``NS:{n:S}:ns``)."""

from __future__ import annotations

from prometheus_client import Counter

SCHEDULED = Counter("xsell_worker_notifications_scheduled", "Notifications scheduled.", ["reason"])
STALE = Counter(
    "xsell_worker_notifications_stale",
    "Triggers whose notification had already expired when processed (history): none scheduled.",
    ["reason"],
)
MERGED = Counter(
    "xsell_worker_notifications_merged",
    "Orders that joined their user's pending post-purchase notification (none scheduled).",
    ["reason"],
)
SENT = Counter("xsell_worker_notifications_sent", "Notifications published.", ["reason", "channel"])
DEFERRED = Counter(
    "xsell_worker_notifications_deferred", "Notifications held for later.", ["reason", "why"]
)
SUPPRESSED = Counter(
    "xsell_worker_notifications_suppressed", "Notifications dropped.", ["reason", "why"]
)
