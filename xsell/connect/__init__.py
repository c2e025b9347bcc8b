"""Connectors: shop platforms' webhooks and product feeds turned into xsell's own records
(docs/integrations.md). Pure functions over parsed payloads and files; the API's routes
(xsell/api/connect_routes.py) and the CLI (``xsell catalog load``) do the sending."""
