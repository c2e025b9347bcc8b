"""Merchant rules (docs/rules.md), secret key only: create, list, read, replace, delete, and
preview a request's offers with and without them. Every change bumps the rules' version, which
every worker and API process checks at most every XSELL_RULES_REFRESH_SECONDS."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from xsell.api.batcher import RankQuery
from xsell.api.deps import Runtime, SecretCaller, checked_id, checked_k
from xsell.api.errors import BAD_INPUT, FORBIDDEN, NO_KEY, NOT_FOUND, UNAVAILABLE, Responses
from xsell.api.runtime import ApiRuntime
from xsell.engine import offer_json
from xsell.models.messages.merchant import (
    Preview,
    PreviewAnswer,
    Rule,
    RuleCreated,
    RuleList,
    StoredRule,
)
from xsell.store import RulesFull

router = APIRouter(tags=["rules"])
ERRORS: Responses = {**BAD_INPUT, **NO_KEY, **FORBIDDEN, **UNAVAILABLE}
RuleId = Annotated[str, Path(min_length=1, max_length=128, description="A rule's id.")]
PREVIEW_ID = "preview"  # the rule id an unsaved rule is previewed under


def _missing(rule_id: str) -> HTTPException:
    return HTTPException(404, f"no rule {rule_id!r}")


@router.post(
    "/v1/rules",
    status_code=201,
    response_model=RuleCreated,
    responses=ERRORS,
    summary="Create a merchant rule (400 past XSELL_RULES_MAX)",
)
async def create_rule(rt: Runtime, _: SecretCaller, rule: Rule) -> RuleCreated:
    return await create(rt, rule)


async def create(rt: ApiRuntime, rule: Rule) -> RuleCreated:
    """Save a new rule (400 past XSELL_RULES_MAX); the console's route too."""
    try:
        rule_id, version = await rt.redis(rt.store.rules.add(rule))
    except RulesFull as exc:
        raise HTTPException(400, str(exc)) from None
    return RuleCreated(rule_id=rule_id, version=version)


@router.get(
    "/v1/rules",
    response_model=RuleList,
    responses={**NO_KEY, **FORBIDDEN, **UNAVAILABLE},
    summary="Every merchant rule, with the rules' version",
)
async def list_rules(rt: Runtime, _: SecretCaller) -> RuleList:
    return await listing(rt)


async def listing(rt: ApiRuntime) -> RuleList:
    """Every rule with the version; the console's route too."""
    rules = await rt.redis(rt.store.rules.read())
    return RuleList(version=rules.version, rules=list(rules.rules))


@router.get(
    "/v1/rules/{rule_id}",
    response_model=StoredRule,
    responses={**ERRORS, **NOT_FOUND},
    summary="One merchant rule",
)
async def get_rule(rt: Runtime, _: SecretCaller, rule_id: RuleId) -> StoredRule:
    rule = await rt.redis(rt.store.rules.get(rule_id))
    if rule is None:
        raise _missing(rule_id)
    return rule


@router.put(
    "/v1/rules/{rule_id}",
    response_model=RuleCreated,
    responses={**ERRORS, **NOT_FOUND},
    summary="Replace a merchant rule",
)
async def put_rule(rt: Runtime, _: SecretCaller, rule_id: RuleId, rule: Rule) -> RuleCreated:
    version = await rt.redis(rt.store.rules.put(rule_id, rule))
    if version is None:
        raise _missing(rule_id)
    return RuleCreated(rule_id=rule_id, version=version)


@router.delete(
    "/v1/rules/{rule_id}",
    response_model=RuleCreated,
    responses={**ERRORS, **NOT_FOUND},
    summary="Delete a merchant rule",
)
async def delete_rule(rt: Runtime, _: SecretCaller, rule_id: RuleId) -> RuleCreated:
    return await remove(rt, rule_id)


async def remove(rt: ApiRuntime, rule_id: str) -> RuleCreated:
    """Delete a rule (404 when there is none); the console's route too."""
    version = await rt.redis(rt.store.rules.delete(rule_id))
    if version is None:
        raise _missing(rule_id)
    return RuleCreated(rule_id=rule_id, version=version)


@router.post(
    "/v1/rules/preview",
    response_model=PreviewAnswer,
    responses=ERRORS,
    summary="A request's offers with the saved rules (and an unsaved one) and without any",
)
async def preview(rt: Runtime, _: SecretCaller, body: Preview) -> PreviewAnswer:
    return await preview_offers(rt, body)


async def preview_offers(rt: ApiRuntime, body: Preview) -> PreviewAnswer:
    """A request's offers with the saved rules (and ``body.rule``) and without any; the
    console's route too."""
    items = list(
        dict.fromkeys(checked_id(i, f"item_ids[{n}]", rt) for n, i in enumerate(body.item_ids))
    )
    user = None if body.user_id is None else checked_id(body.user_id, "user_id", rt)
    saved = await rt.redis(rt.store.rules.read())
    rules = list(saved.rules)
    if body.rule is not None:
        rules.append(StoredRule(**body.rule.model_dump(), rule_id=PREVIEW_ID))
    query = RankQuery(
        tuple(reversed(items)),
        frozenset(items),
        user,
        checked_k(None, rt),
        rt.variant(user),
        body.placement,
        body.segment,
    )
    (with_rules,) = await rt.redis(rt.batcher.rank_with([query], rules))
    (without,) = await rt.redis(rt.batcher.rank_with([query], []))
    return PreviewAnswer.model_validate(
        {
            "version": saved.version,
            "with_rules": [offer_json(o) for o in with_rules],
            "without_rules": [offer_json(o) for o in without],
        }
    )
