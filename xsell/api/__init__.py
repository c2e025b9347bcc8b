"""The HTTP API and live push (``xsell api``): docs/contract.md, "HTTP API"."""
