"""Settings: one typed object, env-overridable (``XSELL_...``), validated at start."""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
