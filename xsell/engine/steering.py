"""The merchant rules of one process (docs/rules.md): the rules as of a version, kept in
memory; the version key is read at most every XSELL_RULES_REFRESH_SECONDS (one GET) and the
rules only when it moved, so a saved rule is obeyed by every worker and API process within
that interval plus one batch, at the cost of two GETs a second per process."""

from __future__ import annotations

import math
import time

from xsell.config.settings import Settings
from xsell.models.rulebook import RuleBook
from xsell.store import RuleSet, Store


class Steering:
    """The rules in use; :meth:`refresh` before each batch or request."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.refresh_seconds = settings.rules.refresh_seconds
        self.current = RuleSet(0, ())
        self.book = RuleBook()  # the current rules, indexed for matching
        self._checked_at = -math.inf

    @property
    def version(self) -> int:
        return self.current.version

    async def refresh(self) -> RuleSet:
        """The rules, reread when the stored version moved since the last look (looked at
        most every ``refresh_seconds``)."""
        now = time.monotonic()
        if now - self._checked_at < self.refresh_seconds:
            return self.current
        self._checked_at = now
        version = await self.store.rules.version()
        if version != self.current.version:
            rules = await self.store.rules.read()
            self.book, self.current = RuleBook(rules.rules), rules
        return self.current
