"""Operator logic on top of the store: loading history, the orders CSV, state status and
rebuild, privacy, inspection (docs/architecture.md)."""
