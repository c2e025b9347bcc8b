"""The merchant rules' room in the store (docs/rules.md): ``{s:rules}:all`` (rule id -> the
rule's JSON) and ``{s:rules}:v``, the version every change bumps in the same script. Every
worker and API process reads the version (one GET) at most every XSELL_RULES_REFRESH_SECONDS
and the rules only when it moved (xsell/engine/steering.py)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from pydantic import ValidationError

from xsell.models.messages.merchant import Rule, StoredRule
from xsell.store.backend.client import Runner
from xsell.store.core.keys import Keys
from xsell.store.rules.lua import RULES_DELETE, RULES_READ, RULES_WRITE

log = logging.getLogger(__name__)


class RulesFull(Exception):
    """The store holds the most rules allowed (XSELL_RULES_MAX)."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules as of one version."""

    version: int
    rules: tuple[StoredRule, ...]


def new_rule_id() -> str:
    return "rule-" + uuid.uuid4().hex[:16]


class RulesStore:
    """Create, replace, delete and read merchant rules; each change bumps the version."""

    def __init__(self, runner: Runner, keys: Keys, max_rules: int) -> None:
        self._runner = runner
        self._keys = keys
        self.max_rules = max_rules

    def _keys_of(self) -> list[str]:
        return [self._keys.rules, self._keys.rules_version]

    async def add(self, rule: Rule) -> tuple[str, int]:
        """Store a new rule; its id and the new version. :class:`RulesFull` at the limit."""
        rule_id = new_rule_id()
        status, version = await self._write(StoredRule(**rule.model_dump(), rule_id=rule_id), "add")
        if status < 0:
            raise RulesFull(f"at most {self.max_rules} rules (XSELL_RULES_MAX)")
        return rule_id, version

    async def put(self, rule_id: str, rule: Rule) -> int | None:
        """Replace a rule; the new version, None when there is no such rule."""
        status, version = await self._write(StoredRule(**rule.model_dump(), rule_id=rule_id), "put")
        return version if status == 1 else None

    async def _write(self, rule: StoredRule, mode: str) -> tuple[int, int]:
        args = [rule.rule_id, rule.model_dump_json(), str(self.max_rules), mode]
        ((status, version),) = await self._runner.run([(RULES_WRITE, self._keys_of(), args)])
        return int(status), int(version)

    async def delete(self, rule_id: str) -> int | None:
        """Delete a rule; the new version, None when there is no such rule."""
        ((deleted, version),) = await self._runner.run([(RULES_DELETE, self._keys_of(), [rule_id])])
        return int(version) if int(deleted) else None

    async def version(self) -> int:
        """The rules' version (0: never changed): one GET."""
        (raw,) = await self._runner.run([("GET", self._keys.rules_version)])
        return int(raw or 0)

    async def read(self) -> RuleSet:
        """Every rule, sorted by id, with the version they are of (one script call). A stored
        rule this version of xsell cannot read is left out, with a warning."""
        ((version, *flat),) = await self._runner.run([(RULES_READ, self._keys_of(), [])])
        rules: list[StoredRule] = []
        for rule_id, raw in zip(flat[::2], flat[1::2], strict=True):
            try:
                rules.append(StoredRule.model_validate_json(raw))
            except ValidationError:
                log.warning("rule %s is not readable; left out", rule_id)
        return RuleSet(int(version), tuple(sorted(rules, key=lambda r: r.rule_id)))

    async def get(self, rule_id: str) -> StoredRule | None:
        (raw,) = await self._runner.run([("HGET", self._keys.rules, rule_id)])
        return None if raw is None else StoredRule.model_validate_json(raw)
