"""Notification triggers: scheduling from cart events and purchases, the due loop, inspection
(docs/contract.md, "Notifications"). Run by the worker (streams/notify.py)."""
