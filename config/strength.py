"""What makes a secret too weak to serve with: the API keys, the public keys and the user-token
secret are refused when empty, shorter than ``XSELL_API_SECRET_MIN_BYTES`` (32 at least), a
known placeholder, or of too little estimated entropy (``XSELL_API_SECRET_MIN_BITS``).

Entropy cannot be measured from one value; the estimate here (length times the Shannon
entropy of the value's own characters, and no 8-character run repeated) refuses what a person
types (``aaaa...``, ``change-me-change-me...``, ``sk-test-secret-sk-test-secret``) and never
refuses what a generator gives (``xsell keys new``, ``openssl rand -hex 16`` or longer: the
lowest estimate of 200,000 ``token_hex(16)`` values was 90.9 bits). The messages name the
setting and never the value.
"""

from __future__ import annotations

import math
import re
import secrets
from collections import Counter

GENERATE = "generate one with `xsell keys new`"
# placeholders seen in examples and tutorials, compared without case, '-', '_', '.' or spaces
PLACEHOLDER_WORDS = (
    "changeme",
    "replaceme",
    "placeholder",
    "example",
    "yoursecret",
    "yourkey",
    "mysecret",
    "secretkey",
    "password",
    "xxxxxxxx",
    "00000000",
    "12345678",
    "tokensecretfortests",
)
REPEAT = 8  # a run of this many characters seen twice: typed, not generated


def new_secret() -> str:
    """A fresh random secret: 256 bits, 43 URL-safe characters (what ``xsell keys new``
    prints, and what the demo and the tests configure)."""
    return secrets.token_urlsafe(32)


def estimated_bits(value: str) -> float:
    """Length times the Shannon entropy of the value's own character frequencies."""
    if not value:
        return 0.0
    n = len(value)
    return -n * sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _repeats(value: str) -> bool:
    seen: set[str] = set()
    for i in range(len(value) - REPEAT + 1):
        run = value[i : i + REPEAT]
        if run in seen:
            return True
        seen.add(run)
    return False


def weakness(value: str, min_bytes: int, min_bits: float) -> str | None:
    """Why ``value`` is too weak to be a secret (None: strong enough)."""
    if not value:
        return "is empty"
    if len(value.encode()) < min_bytes:
        return f"is shorter than {min_bytes} bytes"
    folded = re.sub(r"[-_.\s]", "", value.lower())
    if any(word in folded for word in PLACEHOLDER_WORDS):
        return "is a placeholder"
    if _repeats(value) or estimated_bits(value) < min_bits:
        return f"has too little entropy (under {min_bits:g} bits estimated)"
    return None


def secrets_problem(
    named: list[tuple[str, list[str]]], min_bytes: int, min_bits: float
) -> str | None:
    """The first weak secret of ``named`` ((setting, values) pairs) as one line, or None."""
    for setting, values in named:
        for value in values:
            why = weakness(value, min_bytes, min_bits)
            if why is not None:
                which = f"a value of {setting}" if len(values) > 1 else setting
                return f"{which} {why}: {GENERATE}"
    return None
