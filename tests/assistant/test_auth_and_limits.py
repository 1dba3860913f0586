"""Console logins, tokens, API keys and the per-caller rate limit of the assistant API (seed 002),
answered in the seed's error format."""

from __future__ import annotations

import time

import httpx
import jwt

from core.local_keys import console_jwt_key
from providers.tls import client_context
from tests.assistant.conftest import login
from tests.helpers.platform import ApiServer


async def test_login_answers_a_bearer_token_valid_for_a_day(assistant_server, assistant_settings):
    token = await login(assistant_server.url, assistant_settings)
    claims = jwt.decode(
        token,
        console_jwt_key(assistant_settings),
        algorithms=["HS256"],
        issuer=None,
        options={"verify_iss": False},
    )
    assert claims["sub"] == "admin" and claims["exp"] - claims["iat"] == 86400
    async with httpx.AsyncClient(verify=client_context(), base_url=assistant_server.url) as http:
        answer = await http.post(
            "/api/auth/login",
            json={"username": "admin", "password": "not-it"},
        )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "UNAUTHORIZED"


async def test_the_token_opens_the_api_and_counts_against_the_limit(console):
    response = await console.get("/api/conversations")
    assert response.status_code == 200, response.text
    assert response.headers["X-RateLimit-Limit"] == "60"
    remaining = int(response.headers["X-RateLimit-Remaining"])
    assert 0 <= remaining < 60
    assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())


async def test_forged_expired_and_unsigned_tokens_answer_401(assistant_server, assistant_settings):
    now = int(time.time())
    claims = {"sub": "admin", "iss": "conneskills-assistant", "iat": now, "exp": now + 600}
    forged = jwt.encode(claims, "another-key-" * 4, algorithm="HS256")
    expired = jwt.encode(
        {**claims, "iat": now - 7200, "exp": now - 3600},
        console_jwt_key(assistant_settings),
        algorithm="HS256",
    )
    unsigned = jwt.encode(claims, None, algorithm="none")
    async with httpx.AsyncClient(verify=client_context(), base_url=assistant_server.url) as http:
        for token in (forged, expired, unsigned, "not-a-token"):
            answer = await http.get(
                "/api/conversations", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 401, token
            assert answer.json()["error"]["code"] == "UNAUTHORIZED"
        missing = await http.get("/api/tools")
        assert missing.status_code == 401


async def test_api_keys_need_the_assistant_scope(assistant_server, by_key):
    assert (await by_key.get("/api/tools")).status_code == 200
    created = await by_key.post("/api/v1/api-keys", json={"name": "r", "scopes": ["read"]})
    reader = created.json()["key"]
    scoped = await by_key.post("/api/v1/api-keys", json={"name": "a", "scopes": ["assistant"]})
    assistant_key = scoped.json()["key"]
    async with httpx.AsyncClient(verify=client_context(), base_url=assistant_server.url) as http:
        refused = await http.get("/api/tools", headers={"X-API-Key": reader})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "FORBIDDEN"
        # As the seed's bearer too.
        allowed = await http.get("/api/tools", headers={"Authorization": f"Bearer {assistant_key}"})
        assert allowed.status_code == 200


async def test_bad_input_answers_400_with_the_seeds_code(console):
    for body in ({}, {"conversation_id": "conv_x"}, {"conversation_id": "x", "message": "hi"}):
        answer = await console.post("/api/chat", json=body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "INVALID_REQUEST"
    not_json = await console.post(
        "/api/chat", content=b"hi", headers={"content-type": "text/plain"}
    )
    assert not_json.status_code == 415
    assert not_json.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_the_other_systems_keep_their_codes(console, by_key):
    answer = await by_key.get("/api/v1/jobs", params={"limit": 0})
    assert answer.json()["error"]["code"] == "validation_error"


async def test_over_the_limit_answers_429_with_retry_after(assistant_settings):
    with ApiServer(assistant_settings.model_copy(update={"assistant_rate_limit": "3/minute"})) as s:
        token = await login(s.url, assistant_settings)
        async with httpx.AsyncClient(
            verify=client_context(), base_url=s.url, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            answers = [await http.get("/api/tools") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    refused = answers[3]
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_console_password_hashes_cost_what_the_settings_say():
    """argon2id at argon2-cffi's RFC 9106 low-memory profile by default; the tests' platforms use
    the lowest cost (tests/helpers/platform.py), and a login verifies either."""
    from argon2 import PasswordHasher

    from api.logic.assistant.auth import hash_password
    from core.settings import Settings

    default = hash_password("ñandú-pass", Settings())
    assert default.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    cheap = hash_password(
        "ñandú-pass", Settings(assistant_password_time_cost=1, assistant_password_memory_kib=64)
    )
    assert cheap.startswith("$argon2id$v=19$m=64,t=1,p=4$")
    assert PasswordHasher().verify(default, "ñandú-pass") and PasswordHasher().verify(
        cheap, "ñandú-pass"
    )
