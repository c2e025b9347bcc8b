"""The ``xsell`` command line (the top layer: docs/architecture.md)."""
