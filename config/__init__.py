"""Settings: one typed object, built once, env-overridable (``XSELL_...``), validated at start."""

from config.settings import Settings, get_settings, load_settings

__all__ = ["Settings", "get_settings", "load_settings"]
