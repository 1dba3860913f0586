"""HTTP-API templates at the wire level, against a small real HTTP server started here.

The server (FastAPI under uvicorn, on a free loopback port) answers like the real APIs do:
same paths, auth headers checked, same JSON shapes and status codes. Each service lives under
its own path prefix, which also proves the templates keep a registered URL's path.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
import uuid

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse

from providers.service_templates import (
    AuthenticationFailed,
    ExternalServiceError,
    InvalidOperationParams,
    ServiceConnection,
    get_template,
)

QDRANT_KEY = f"qdrant-{uuid.uuid4().hex}"
LITELLM_KEY = f"sk-litellm-{uuid.uuid4().hex}"
OPENAI_KEY = f"sk-openai-{uuid.uuid4().hex}"
ANTHROPIC_KEY = f"sk-ant-{uuid.uuid4().hex}"
SUPABASE_KEY = f"eyJ-service-role-{uuid.uuid4().hex}"
SUPABASE_SB_KEY = f"sb_secret_{uuid.uuid4().hex}"
JIRA_USER, JIRA_TOKEN = "ops@example.com", f"jira-{uuid.uuid4().hex}"
NEO4J_PASSWORD = f"neo-{uuid.uuid4().hex}"
LANGFUSE_PUBLIC, LANGFUSE_SECRET = "pk-lf-1234", f"sk-lf-{uuid.uuid4().hex}"
WRONG = f"wrong-{uuid.uuid4().hex}"
# What the Supabase endpoints of the test server received, in order.
SUPABASE_SEEN: list[dict] = []


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def build_app() -> FastAPI:
    app = FastAPI()

    def unauthorized(body: object = None) -> JSONResponse:
        return JSONResponse(body or {"error": "unauthorized"}, status_code=401)

    # Qdrant
    @app.get("/qdrant/collections")
    async def qdrant_collections(request: Request):
        if request.headers.get("api-key") != QDRANT_KEY:
            return PlainTextResponse(
                "Must provide an API key or an Authorization bearer token", 401
            )
        return {
            "result": {"collections": [{"name": "docs"}, {"name": "agents"}]},
            "status": "ok",
            "time": 1.2e-05,
        }

    # LiteLLM proxy
    @app.get("/litellm/health/liveliness")
    async def litellm_alive():
        return "I'm alive!"

    @app.get("/litellm/v1/models")
    async def litellm_models(request: Request):
        if request.headers.get("authorization") != f"Bearer {LITELLM_KEY}":
            return unauthorized(
                {
                    "error": {
                        "message": "Authentication Error, Invalid proxy server token passed.",
                        "type": "auth_error",
                        "param": "None",
                        "code": "401",
                    }
                }
            )
        return {
            "data": [
                {"id": "gpt-4o", "object": "model", "created": 1677610602, "owned_by": "openai"},
                {"id": "claude-sonnet", "object": "model", "created": 1677610602, "owned_by": "x"},
            ],
            "object": "list",
        }

    # OpenAI
    @app.get("/openai/v1/models")
    async def openai_models(request: Request):
        if request.headers.get("authorization") != f"Bearer {OPENAI_KEY}":
            return unauthorized(
                {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
            )
        return {
            "object": "list",
            "data": [{"id": "gpt-4o-mini", "object": "model", "created": 1, "owned_by": "system"}],
        }

    # Anthropic
    @app.get("/anthropic/v1/models")
    async def anthropic_models(request: Request):
        if not request.headers.get("anthropic-version"):
            return JSONResponse(
                {
                    "type": "error",
                    "error": {
                        "type": "invalid_request_error",
                        "message": "anthropic-version: header is required",
                    },
                },
                status_code=400,
            )
        if request.headers.get("x-api-key") != ANTHROPIC_KEY:
            return unauthorized(
                {
                    "type": "error",
                    "error": {"type": "authentication_error", "message": "invalid x-api-key"},
                }
            )
        return {
            "data": [
                {
                    "type": "model",
                    "id": "claude-sonnet-4-5",
                    "display_name": "Claude Sonnet 4.5",
                    "created_at": "2025-09-29T00:00:00Z",
                }
            ],
            "has_more": False,
            "first_id": "claude-sonnet-4-5",
            "last_id": "claude-sonnet-4-5",
        }

    # Jira: serverInfo answers anonymously, but not with bad credentials.
    def jira_auth(request: Request) -> bool | None:
        header = request.headers.get("authorization")
        if header is None:
            return None
        return header == basic(JIRA_USER, JIRA_TOKEN)

    @app.get("/jira/rest/api/2/serverInfo")
    async def jira_server_info(request: Request):
        if jira_auth(request) is False:
            return unauthorized({"errorMessages": ["Client must be authenticated"], "errors": {}})
        return {
            "baseUrl": "https://example.atlassian.net",
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100280,
            "buildDate": "2025-01-01T00:00:00.000+0000",
            "serverTime": "2025-01-02T00:00:00.000+0000",
            "scmInfo": "abc",
            "serverTitle": "Jira",
        }

    @app.get("/jira/rest/api/2/myself")
    async def jira_myself(request: Request):
        if not jira_auth(request):
            return unauthorized({"errorMessages": ["Client must be authenticated"], "errors": {}})
        return {"accountId": "5b10ac8d82e05b22cc7d4ef5", "emailAddress": JIRA_USER, "active": True}

    # Neo4j HTTP API
    @app.get("/neo4j/")
    async def neo4j_discovery():
        return {
            "bolt_routing": "neo4j://localhost:7687",
            "transaction": "http://localhost:7474/db/{databaseName}/tx",
            "bolt_direct": "bolt://localhost:7687",
            "neo4j_version": "5.26.0",
            "neo4j_edition": "community",
        }

    @app.post("/neo4j/db/{database}/tx/commit")
    async def neo4j_commit(database: str, request: Request):
        if request.headers.get("authorization") != basic("neo4j", NEO4J_PASSWORD):
            return unauthorized(
                {
                    "errors": [
                        {
                            "code": "Neo.ClientError.Security.Unauthorized",
                            "message": "Invalid username or password.",
                        }
                    ]
                }
            )
        statement = (await request.json())["statements"][0]
        if statement["statement"] == "RETURN 1":
            return {
                "results": [{"columns": ["1"], "data": [{"row": [1], "meta": [None]}]}],
                "errors": [],
            }
        if statement["statement"].startswith("MATCH"):
            names = [f"{database}-{statement['parameters'].get('prefix', '')}{i}" for i in range(3)]
            return {
                "results": [
                    {"columns": ["name"], "data": [{"row": [n], "meta": [None]} for n in names]}
                ],
                "errors": [],
            }
        return {
            "results": [],
            "errors": [
                {
                    "code": "Neo.ClientError.Statement.SyntaxError",
                    "message": "Invalid input 'BOGUS'",
                }
            ],
        }

    # Langfuse
    @app.get("/langfuse/api/public/health")
    async def langfuse_health():
        return {"status": "OK", "version": "3.38.0"}

    @app.get("/langfuse/api/public/projects")
    async def langfuse_projects(request: Request):
        if request.headers.get("authorization") != basic(LANGFUSE_PUBLIC, LANGFUSE_SECRET):
            return unauthorized({"message": "Invalid credentials"})
        return {"data": [{"id": "cl123", "name": "conneskills", "metadata": {}}]}

    # Supabase PostgREST: the root is an OpenAPI (Swagger 2.0) document. Every request that
    # reaches a Supabase path is recorded, so tests can assert what the official client sent.
    @app.get("/supabase/rest/v1/")
    async def supabase_root(request: Request):
        SUPABASE_SEEN.append(
            {"method": request.method, "path": request.url.path, "headers": request.headers}
        )
        apikey = request.headers.get("apikey")
        if apikey not in (SUPABASE_KEY, SUPABASE_SB_KEY):
            return unauthorized(
                {
                    "message": "Invalid API key",
                    "hint": "Double check your Supabase `anon` or `service_role` API key.",
                }
            )
        authorization = request.headers.get("authorization")
        if apikey == SUPABASE_KEY and authorization != f"Bearer {SUPABASE_KEY}":
            return unauthorized({"message": "JWT required"})
        # PostgREST rejects a bearer token that is not a JWT.
        if apikey == SUPABASE_SB_KEY and authorization is not None:
            return unauthorized({"code": "PGRST301", "message": "Expected 3 parts in JWT; got 1"})
        return {
            "swagger": "2.0",
            "info": {"title": "PostgREST API", "version": "12.2.0"},
            "paths": {"/": {}, "/customers": {}, "/services": {}, "/rpc/hello": {}},
            "definitions": {"services": {"properties": {}}, "customers": {"properties": {}}},
        }

    # A project URL that redirects elsewhere: the key must not follow.
    @app.get("/supabase-moved/rest/v1/")
    async def supabase_moved(request: Request):
        return RedirectResponse("/supabase-elsewhere/rest/v1/", status_code=307)

    @app.get("/supabase-elsewhere/rest/v1/")
    async def supabase_elsewhere(request: Request):
        SUPABASE_SEEN.append(
            {"method": request.method, "path": request.url.path, "headers": request.headers}
        )
        return {"definitions": {}}

    @app.get("/supabase-broken/rest/v1/")
    async def supabase_broken(request: Request):
        return JSONResponse(
            {"message": f"upstream down; apikey={request.headers.get('apikey')}"},
            status_code=503,
        )

    # A service that is up but failing.
    @app.get("/broken/{rest:path}")
    async def broken(rest: str):
        return JSONResponse({"error": "upstream unavailable"}, status_code=503)

    return app


@pytest.fixture(scope="module")
def api_url():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "test HTTP server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)
    sock.close()


def service(type_: str, url: str, **credentials: str) -> ServiceConnection:
    return ServiceConnection(name=f"test-{type_}", type=type_, url=url, credentials=credentials)


# Each case: type, path prefix, good credentials, the same with the secret wrong.
CASES = [
    ("qdrant", "/qdrant", {"api_key": QDRANT_KEY}, {"api_key": WRONG}),
    ("litellm", "/litellm", {"api_key": LITELLM_KEY}, {"api_key": WRONG}),
    ("openai", "/openai", {"api_key": OPENAI_KEY}, {"api_key": WRONG}),
    ("anthropic", "/anthropic", {"api_key": ANTHROPIC_KEY}, {"api_key": WRONG}),
    ("supabase", "/supabase", {"api_key": SUPABASE_KEY}, {"api_key": "eyJ" + WRONG}),
    (
        "jira",
        "/jira",
        {"username": JIRA_USER, "api_key": JIRA_TOKEN},
        {"username": JIRA_USER, "api_key": WRONG},
    ),
    ("neo4j", "/neo4j", {"password": NEO4J_PASSWORD}, {"password": WRONG}),
    (
        "langfuse",
        "/langfuse",
        {"username": LANGFUSE_PUBLIC, "password": LANGFUSE_SECRET},
        {"username": LANGFUSE_PUBLIC, "password": WRONG},
    ),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("type_", "prefix", "good", "bad"), CASES, ids=IDS)
async def test_healthy_with_the_right_credentials(api_url, type_, prefix, good, bad):
    result = await get_template(type_).health_check(service(type_, api_url + prefix, **good))
    assert result.status == "healthy", result.message
    assert result.details["latency_ms"] >= 0


@pytest.mark.parametrize(("type_", "prefix", "good", "bad"), CASES, ids=IDS)
async def test_rejected_credentials_are_unhealthy(api_url, type_, prefix, good, bad):
    result = await get_template(type_).health_check(service(type_, api_url + prefix, **bad))
    assert result.status == "unhealthy"
    assert "authentication failed (HTTP 401)" in result.message
    assert WRONG not in result.model_dump_json()


@pytest.mark.parametrize(("type_", "prefix", "good", "bad"), CASES, ids=IDS)
async def test_connection_refused_is_unhealthy(type_, prefix, good, bad):
    result = await get_template(type_).health_check(service(type_, "http://127.0.0.1:1", **good))
    assert result.status == "unhealthy"
    assert "cannot connect" in result.message and "127.0.0.1:1" in result.message
    for secret in good.values():
        assert secret not in result.model_dump_json()


async def test_server_error_is_unhealthy(api_url):
    result = await get_template("qdrant").health_check(
        service("qdrant", api_url + "/broken", api_key=QDRANT_KEY)
    )
    assert result.status == "unhealthy" and "HTTP 503" in result.message


async def test_qdrant_list_collections(api_url):
    conn = service("qdrant", api_url + "/qdrant", api_key=QDRANT_KEY)
    result = await get_template("qdrant").execute_operation(conn, "list_collections", {})
    assert result == {"collections": ["agents", "docs"]}


async def test_litellm_list_models(api_url):
    conn = service("litellm", api_url + "/litellm", api_key=LITELLM_KEY)
    result = await get_template("litellm").execute_operation(conn, "list_models")
    assert result == {"models": ["claude-sonnet", "gpt-4o"]}
    # A URL registered with its /v1 suffix reaches the same endpoint.
    conn_v1 = service("litellm", api_url + "/litellm/v1", api_key=LITELLM_KEY)
    assert await get_template("litellm").execute_operation(conn_v1, "list_models") == result


async def test_jira_get_server_info(api_url):
    conn = service("jira", api_url + "/jira", username=JIRA_USER, api_key=JIRA_TOKEN)
    info = await get_template("jira").execute_operation(conn, "get_server_info")
    assert info["deploymentType"] == "Cloud" and info["versionNumbers"] == [1001, 0, 0]
    assert "scmInfo" not in info


async def test_openai_and_anthropic_list_models(api_url):
    openai = service("openai", api_url + "/openai", api_key=OPENAI_KEY)
    anthropic = service("anthropic", api_url + "/anthropic", api_key=ANTHROPIC_KEY)
    assert await get_template("openai").execute_operation(openai, "list_models") == {
        "models": ["gpt-4o-mini"]
    }
    assert await get_template("anthropic").execute_operation(anthropic, "list_models") == {
        "models": ["claude-sonnet-4-5"]
    }


async def test_neo4j_execute_query(api_url):
    conn = service("neo4j", api_url + "/neo4j", password=NEO4J_PASSWORD)
    result = await get_template("neo4j").execute_operation(
        conn,
        "execute_query",
        {"query": "MATCH (n) RETURN n.name AS name", "parameters": {"prefix": "n"}, "max_rows": 2},
    )
    assert result == {
        "columns": ["name"],
        "rows": [["neo4j-n0"], ["neo4j-n1"]],
        "row_count": 2,
        "truncated": True,
    }
    with pytest.raises(ExternalServiceError, match="SyntaxError"):
        await get_template("neo4j").execute_operation(conn, "execute_query", {"query": "BOGUS"})
    with pytest.raises(InvalidOperationParams) as info:
        await get_template("neo4j").execute_operation(
            conn, "execute_query", {"query": "RETURN 1", "database": "../admin"}
        )
    assert info.value.field == "database"


async def test_langfuse_and_supabase_operations(api_url):
    langfuse = service(
        "langfuse", api_url + "/langfuse", username=LANGFUSE_PUBLIC, password=LANGFUSE_SECRET
    )
    assert await get_template("langfuse").execute_operation(langfuse, "list_projects") == {
        "projects": [{"id": "cl123", "name": "conneskills"}]
    }
    supabase = service("supabase", api_url + "/supabase", api_key=SUPABASE_KEY)
    assert await get_template("supabase").execute_operation(supabase, "list_tables") == {
        "tables": ["customers", "services"]
    }


async def test_operation_with_rejected_key_raises_authentication_failed(api_url):
    conn = service("qdrant", api_url + "/qdrant", api_key=WRONG)
    with pytest.raises(AuthenticationFailed) as info:
        await get_template("qdrant").execute_operation(conn, "list_collections")
    assert WRONG not in str(info.value) and info.value.retryable is False


async def test_missing_credential_is_reported_not_sent(api_url):
    conn = service("openai", api_url + "/openai")
    result = await get_template("openai").health_check(conn)
    assert result.status == "unhealthy" and "credentials.api_key" in result.message
    with pytest.raises(InvalidOperationParams) as info:
        await get_template("openai").execute_operation(conn, "list_models")
    assert info.value.field == "credentials.api_key"


async def test_neo4j_bolt_url_is_refused_with_a_clear_message():
    conn = service("neo4j", "neo4j+s://abc.databases.neo4j.io", password="x")
    result = await get_template("neo4j").health_check(conn)
    assert result.status == "unhealthy" and "HTTP API" in result.message


# Supabase goes through the official `supabase` client: these assert what it puts on the wire.


def supabase_requests(path: str) -> list[dict]:
    return [r for r in SUPABASE_SEEN if r["path"] == path]


async def test_supabase_legacy_jwt_key_goes_in_apikey_and_authorization(api_url):
    SUPABASE_SEEN.clear()
    conn = service("supabase", api_url + "/supabase", api_key=SUPABASE_KEY)
    result = await get_template("supabase").execute_operation(conn, "list_tables")
    assert result == {"tables": ["customers", "services"]}
    [request] = SUPABASE_SEEN
    headers = request["headers"]
    assert request["method"] == "GET" and request["path"] == "/supabase/rest/v1/"
    assert headers["apikey"] == SUPABASE_KEY
    assert headers["authorization"] == f"Bearer {SUPABASE_KEY}"
    assert headers["accept-profile"] == "public"
    assert headers["x-client-info"].startswith("supabase-py/")


async def test_supabase_new_secret_key_goes_in_apikey_only(api_url):
    SUPABASE_SEEN.clear()
    conn = service("supabase", api_url + "/supabase", token=SUPABASE_SB_KEY)
    result = await get_template("supabase").health_check(conn)
    assert result.status == "healthy", result.message
    assert result.message == "Supabase REST answered with 2 table(s)"
    assert result.details["tables"] == 2
    [request] = SUPABASE_SEEN
    assert request["path"] == "/supabase/rest/v1/"
    assert request["headers"]["apikey"] == SUPABASE_SB_KEY
    assert "authorization" not in request["headers"]


async def test_supabase_rejected_key_raises_authentication_failed(api_url):
    for bad in ("eyJ" + WRONG, "sb_secret_" + WRONG):
        conn = service("supabase", api_url + "/supabase", api_key=bad)
        with pytest.raises(AuthenticationFailed) as info:
            await get_template("supabase").execute_operation(conn, "list_tables")
        assert "authentication failed (HTTP 401)" in str(info.value)
        assert WRONG not in str(info.value) and info.value.retryable is False


async def test_supabase_connection_refused_is_a_retryable_error():
    conn = service("supabase", "http://127.0.0.1:1", api_key=SUPABASE_KEY)
    with pytest.raises(ExternalServiceError) as info:
        await get_template("supabase").execute_operation(conn, "list_tables")
    assert not isinstance(info.value, AuthenticationFailed)
    assert str(info.value) == (
        "cannot connect to Supabase at 127.0.0.1:1: connection refused or unreachable"
    )
    assert info.value.retryable is True


async def test_supabase_server_error_is_unhealthy_without_the_key(api_url):
    conn = service("supabase", api_url + "/supabase-broken", api_key=SUPABASE_KEY)
    result = await get_template("supabase").health_check(conn)
    assert result.status == "unhealthy" and "answered HTTP 503" in result.message
    assert "upstream down" in result.message
    assert SUPABASE_KEY not in result.model_dump_json()
    with pytest.raises(ExternalServiceError) as info:
        await get_template("supabase").execute_operation(conn, "list_tables")
    assert info.value.retryable is True and SUPABASE_KEY not in str(info.value)


async def test_supabase_redirect_is_not_followed_with_the_key(api_url):
    SUPABASE_SEEN.clear()
    conn = service("supabase", api_url + "/supabase-moved", api_key=SUPABASE_KEY)
    result = await get_template("supabase").health_check(conn)
    assert result.status == "unhealthy" and "redirected (HTTP 307)" in result.message
    assert supabase_requests("/supabase-elsewhere/rest/v1/") == []


async def test_supabase_missing_key_or_bad_url_sends_nothing(api_url):
    SUPABASE_SEEN.clear()
    with pytest.raises(InvalidOperationParams) as info:
        await get_template("supabase").execute_operation(
            service("supabase", api_url + "/supabase"), "list_tables"
        )
    assert info.value.field == "credentials.api_key"
    with pytest.raises(InvalidOperationParams) as info:
        await get_template("supabase").execute_operation(
            service("supabase", "postgres://db.example.com", api_key=SUPABASE_KEY), "list_tables"
        )
    assert info.value.field == "url"
    assert SUPABASE_SEEN == []
