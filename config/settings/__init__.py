"""The one settings object of xsell, nested by feature (``settings.redis.url``), with every
flat ``XSELL_*`` name and TOML key of before still accepted (config/settings/names.py)."""

from xsell.config.safety import mask_url, require_safe
from xsell.config.settings.names import FLAT, safe_errors
from xsell.config.settings.root import Settings, flat_defaults, load_settings

__all__ = [
    "FLAT",
    "Settings",
    "flat_defaults",
    "load_settings",
    "mask_url",
    "require_safe",
    "safe_errors",
]
