"""Feedback, attribution and experiments over the store: the report (docs/contract.md,
"Feedback and experiments") and the dashboard's series."""
