"""Settings: one typed object, env-overridable (``XSELL_...``), validated at start."""

from xsell.config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
