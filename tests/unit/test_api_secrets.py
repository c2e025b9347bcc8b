"""The API's secrets and limits, pure: weak keys refused at start with how to generate one,
`xsell keys new`, dashboard cookies parsed without a way to fail, tokens kept out of access
logs, 429 and 413 declared in the OpenAPI, security headers."""

from __future__ import annotations

import logging
import os
import secrets

import pytest
from pydantic import ValidationError

from xsell.api.app import create_app
from xsell.api.dashboard import session_of
from xsell.api.guard import Guard, RedactQuery, redact
from xsell.api.headers import content_security_policy
from xsell.cli.main import main
from xsell.config.settings import load_settings, safe_errors
from xsell.config.strength import estimated_bits, new_secret, weakness

GOOD = new_secret()
WEAK = {
    "empty": "",
    "short": "sk-live-4f9a",
    "placeholder": "sk-change-me-" + secrets.token_hex(16),
    "one character": "a" * 48,
    "repeated": "sk-test-secret-sk-test-secret-sk-test-secret",
    "README example": "change-me",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("XSELL_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("setting", ["api_keys", "api_public_keys", "api_user_token_secret"])
@pytest.mark.parametrize("kind", sorted(WEAK))
def test_a_weak_key_or_token_secret_is_refused_with_how_to_make_one(
    setting: str, kind: str
) -> None:
    values = {"api_keys": GOOD, "api_public_keys": new_secret(), "api_user_token_secret": GOOD}
    values[setting] = WEAK[kind] if setting != "api_keys" else f"{new_secret()},{WEAK[kind]}"
    if kind == "empty" and setting != "api_user_token_secret":
        return  # an empty list item is no key at all (comma-separated lists skip them)
    with pytest.raises(ValidationError) as info:
        load_settings(**values)
    text = safe_errors(info.value)
    assert f"XSELL_{setting.upper()}" in text and "`xsell keys new`" in text
    assert WEAK[kind] not in text or not WEAK[kind]  # the value is never echoed


def test_generated_secrets_pass_and_typed_ones_do_not() -> None:
    for _ in range(2000):
        assert weakness(new_secret(), 32, 80) is None
        assert weakness(secrets.token_hex(16), 32, 80) is None  # openssl rand -hex 16
        assert weakness(secrets.token_hex(32), 32, 80) is None
    assert estimated_bits("a" * 100) == 0
    assert weakness("Sup3r-Password-for-the-shop-2026!", 32, 80) == "is a placeholder"
    assert weakness(GOOD, 64, 80) == "is shorter than 64 bytes"  # the floor can be raised
    with pytest.raises(ValidationError):
        load_settings(api_secret_min_bytes=16)  # ... never lowered


def test_keys_new_prints_fresh_strong_secrets_even_where_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XSELL_API_KEYS", "short")
    assert main(["api", "token", "u1"]) == 2  # the weak key stops a command that serves
    assert "xsell keys new" in capsys.readouterr().err
    assert main(["keys", "new", "--count", "3"]) == 0
    lines = capsys.readouterr().out.split()
    assert len(lines) == len(set(lines)) == 3
    assert all(weakness(line, 32, 80) is None for line in lines)


@pytest.mark.parametrize(
    "cookie",
    [
        None,
        "",
        "9" * 5000 + ".AAAA",  # a 5,000-digit expiry: int() refuses it (a 500 before)
        "1799999999.\u00e9\u00e8\u00ff",  # non-ASCII (a 500 before: compare_digest)
        "\u0661\u0662\u0663.abc",  # Arabic-Indic digits
        new_secret() + "x",
        new_secret()[:-1] + "\u00e9",
        "x" * 10_000,
    ],
)
def test_a_malformed_dashboard_cookie_is_no_session(cookie: str | None) -> None:
    assert session_of(cookie) is None


def test_a_well_formed_cookie_is_a_session_value() -> None:
    value = new_secret()
    assert session_of(value) == value


def test_tokens_and_keys_in_urls_never_reach_an_access_log() -> None:
    token = "xut1.1799999999.dTE.c2lnbmF0dXJl"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5",
            "GET",
            f"/v1/users/u1/suggestions/stream?key=pk1&token={token}",
            "1.1",
            200,
        ),
        None,
    )
    assert RedactQuery().filter(record)
    line = record.getMessage()
    assert token not in line and "pk1" not in line
    assert "stream?key=***&token=***" in line
    assert redact("/x?TOKEN=a&k=1") == "/x?TOKEN=***&k=1"


def test_the_openapi_declares_429_beside_every_401_and_the_event_caps() -> None:
    settings = load_settings(
        api_keys=new_secret(), api_public_keys=new_secret(), api_user_token_secret=new_secret()
    )
    document = create_app(settings).openapi()
    declared = 0
    for path, methods in document["paths"].items():
        for operation in methods.values():
            answers = operation["responses"]
            if path.startswith("/v1/connect/"):  # a wrong signature, never limited: no 429
                assert "401" in answers and "429" not in answers
            elif "401" in answers:
                assert "Retry-After" in answers["429"]["headers"]
                declared += 1
    assert declared >= 6
    events = document["paths"]["/v1/events"]["post"]["responses"]
    assert "XSELL_API_PUBLIC_MAX_EVENTS" in events["413"]["description"]
    assert "XSELL_API_PUBLIC_EVENTS_PER_SECOND" in events["429"]["description"]
    stream = document["paths"]["/v1/users/{user_id}/suggestions/stream"]["get"]
    assert "token" in {p["name"] for p in stream["parameters"]}
    latest = document["paths"]["/v1/users/{user_id}/suggestions"]["get"]
    assert "token" not in {p["name"] for p in latest["parameters"]}


def test_the_content_security_policy_takes_the_frame_ancestors_setting() -> None:
    assert "frame-ancestors 'none'" in content_security_policy(load_settings().api.frame_ancestors)
    shop = load_settings(api_frame_ancestors="'self' https://admin.shop.example")
    policy = content_security_policy(shop.api.frame_ancestors)
    assert policy.endswith("frame-ancestors 'self' https://admin.shop.example")
    assert "script-src 'self';" in policy
    with pytest.raises(ValidationError):
        load_settings(api_frame_ancestors="'self'; script-src *")  # no smuggled directive


def test_a_failure_counts_against_the_address_and_a_hash_of_the_key_prefix() -> None:
    subjects = Guard.subjects("10.0.0.7", "sk-live-0123456789")
    assert subjects[0] == ("ip", "10.0.0.7")
    kind, prefix_id = subjects[1]
    assert kind == "kp" and "sk-live" not in prefix_id and len(prefix_id) == 16
    assert Guard.subjects("10.0.0.7", "sk-live-abcdefghij")[1] == subjects[1]  # same 8 chars
    assert Guard.subjects("10.0.0.7", "") == [("ip", "10.0.0.7")]
