"""The API's pure parts: user tokens, the key check, and the latest-suggestion writes."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from pydantic import ValidationError
from starlette.requests import Request

from xsell.api.app import create_app
from xsell.api.auth import Authenticator, Level
from xsell.api.event_routes import public_refusal
from xsell.api.schemas import RecommendationRequest
from xsell.api.tokens import TokenError, check_token, mint, token_user
from xsell.config.settings import load_settings
from xsell.config.strength import new_secret
from xsell.store.core.keys import Keys
from xsell.store.core.latest import Published, latest_calls

SECRET = b"s3cret"


def test_a_token_names_its_user_until_it_expires() -> None:
    token = mint(SECRET, "u-1", 2000)
    assert token.startswith("xut1.2000.")
    assert token_user(SECRET, token, now=1999.0) == "u-1"
    with pytest.raises(TokenError, match="expired user token"):
        token_user(SECRET, token, now=2001.0)


@pytest.mark.parametrize("user", ["u:1", "用户", "a.b.c", "x" * 128, "{u}"])
def test_any_valid_user_id_round_trips(user: str) -> None:
    assert token_user(SECRET, mint(SECRET, user, 10**10), 0) == user


def test_a_token_of_another_user_another_secret_or_edited_is_refused() -> None:
    token = mint(SECRET, "alice", 10**10)
    with pytest.raises(TokenError, match="another user"):
        check_token(SECRET, token, "bob", 0)
    with pytest.raises(TokenError, match="invalid user token"):
        token_user(b"other-secret", token, 0)
    prefix, expires, user, mac = token.split(".")
    with pytest.raises(TokenError, match="invalid user token"):  # a later expiry, same MAC
        token_user(SECRET, f"{prefix}.{int(expires) + 1}.{user}.{mac}", 0)
    for garbage in ("", "xut1", "xut1.a.b.c", "xut2.1.dQ.AA", "xut1.1.%%%.AA"):
        with pytest.raises(TokenError, match="malformed"):
            token_user(SECRET, garbage, 0)
    with pytest.raises(TokenError, match="needs a user token"):
        check_token(SECRET, None, "alice", 0)


def _request(headers: dict[str, str], query: str = "") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request(
        {
            "type": "http",
            "headers": raw,
            "query_string": query.encode(),
            "method": "GET",
            "path": "/",
        }
    )


SK1, SK2, PK, TS = (new_secret() for _ in range(4))


def test_keys_give_their_level_and_unknown_ones_401() -> None:
    auth = Authenticator(
        load_settings(api_keys=f"{SK1},{SK2}", api_public_keys=PK, api_user_token_secret=TS)
    )
    assert auth.access(_request({"Authorization": f"Bearer {SK2}"})).level is Level.SECRET
    assert auth.access(_request({"Authorization": f"bearer {PK}"})).level is Level.PUBLIC
    assert auth.access(_request({}, f"key={PK}")).level is Level.PUBLIC
    for headers, query in (({}, ""), ({"Authorization": "Bearer x"}, ""), ({}, f"key={SK1}")):
        with pytest.raises(HTTPException) as info:
            auth.access(_request(headers, query))
        assert info.value.status_code == 401


def test_without_keys_everything_is_open() -> None:
    auth = Authenticator(load_settings())
    access = auth.access(_request({}))
    assert access.level is Level.OPEN
    auth.require_secret(access)
    auth.require_user(access, "anyone")


def test_public_keys_need_a_token_secret() -> None:
    with pytest.raises(ValueError, match="api_public_keys need api_user_token_secret"):
        load_settings(api_public_keys=PK)


def test_latest_keeps_the_last_message_per_placement_and_forgets_at_a_tombstone() -> None:
    keys = Keys("ns")
    calls = latest_calls(
        keys,
        60,
        [
            Published("u", "cart", "m1"),
            Published("u", "post_purchase", "m2"),
            Published("u", "cart", "m3"),
            Published(None, "cart", "anon"),
            Published("v", "cart", "v1"),
            Published("v", None, None),
            Published("w", "cart", "w1"),
            Published("w", None, None),
            Published("w", "cart", "w2"),
        ],
    )
    assert calls == [
        ("HSET", keys.latest("u"), "cart", "m3", "*", "m3", "post_purchase", "m2"),
        ("EXPIRE", keys.latest("u"), 60),
        ("DEL", keys.latest("v")),
        ("DEL", keys.latest("w")),
        ("HSET", keys.latest("w"), "cart", "w2", "*", "w2"),
        ("EXPIRE", keys.latest("w"), 60),
    ]


def test_the_openapi_declares_one_error_body_keys_and_no_422() -> None:
    settings = load_settings(api_keys=SK1, api_public_keys=PK, api_user_token_secret=TS)
    document = create_app(settings).openapi()
    assert set(document["components"]["securitySchemes"]) == {"apiKey", "publicKeyQuery"}
    for path, methods in document["paths"].items():
        for operation in methods.values():
            assert "422" not in operation["responses"], path
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    schema = answer["content"]["application/json"]["schema"]["$ref"]
                    assert schema.rsplit("/", 1)[1] in (
                        "ErrorAnswer",
                        "NoEventAccepted",
                        "NotReady",
                    )
    assert document["paths"]["/metrics"]["get"]["responses"]["200"]["content"] == {
        "text/plain": {"schema": {"type": "string"}}
    }
    assert "requestBody" in document["paths"]["/v1/events"]["post"]
    suggestion = document["components"]["schemas"]["SuggestionMessage"]
    assert "variant" in suggestion["required"]


@pytest.mark.parametrize("body", [{"user_id": False}, {"items": [True]}, {"k": "2"}, {"k": True}])
def test_a_recommendation_request_refuses_booleans_and_text_for_numbers(
    body: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        RecommendationRequest.model_validate({"items": ["a"], **body})
    assert RecommendationRequest.model_validate({"items": [2.0], "k": 2.0}).items == [2]


def test_a_public_key_posts_purchases_only_when_the_setting_allows() -> None:
    for kind in ("add_to_cart", "remove_from_cart", "view", "impression", "click", "dismiss"):
        assert public_refusal(kind, False) is None and public_refusal(kind, True) is None
    off = public_refusal("purchase", False)
    assert off is not None and "XSELL_API_PUBLIC_PURCHASES=true" in off
    assert public_refusal("purchase", True) is None
    for kind in ("forget_user", "item"):  # never from a page
        assert public_refusal(kind, True) == "a public key may post cart and feedback events only"
    assert load_settings().api.public_purchases is False
    assert load_settings(api_public_purchases="true").api.public_purchases is True
