"""The template contract: registry, dispatch, parameter and identifier checks, redaction, MongoDB."""

from __future__ import annotations

import asyncio
import pickle
from datetime import UTC

import pytest

from providers.service_templates import (
    SUPPORTED_TYPES,
    ExternalServiceError,
    ExternalServiceType,
    HealthCheckResult,
    InvalidOperationParams,
    ServiceConnection,
    UnknownOperationError,
    available_operations,
    get_template,
    redact,
)
from providers.service_templates.identifiers import (
    quote_mysql_identifier,
    quote_pg_identifier,
    validate_identifier,
)
from providers.service_templates.pg_passwords import (
    quote_pg_literal,
    scram_sha256_verifier,
    verify_scram_password,
)


def test_every_type_has_a_template_and_every_operation_a_handler():
    assert {t.value for t in SUPPORTED_TYPES} == {
        "postgres", "mysql", "redis", "mongodb", "qdrant", "neo4j",
        "langfuse", "litellm", "openai", "anthropic", "supabase", "jira",
    }  # fmt: skip
    for service_type in SUPPORTED_TYPES:
        template = get_template(service_type)
        assert template.service_type == service_type
        assert get_template(service_type.value) is template
        for operation in template.operations:
            assert callable(getattr(template, f"op_{operation}", None)), (service_type, operation)


def test_available_operations_match_the_seed():
    assert available_operations("postgres") == [
        "list_databases",
        "execute_query",
        "list_tables",
        "create_database",
        "drop_database",
        "create_service_database",
    ]
    assert available_operations(ExternalServiceType.REDIS) == [
        "get_info",
        "get_key",
        "set_key",
        "delete_key",
        "list_keys",
    ]
    assert available_operations("mysql") == [
        "list_databases",
        "execute_query",
        "create_database",
        "drop_database",
    ]
    assert available_operations("qdrant") == ["list_collections"]
    assert available_operations("langfuse") == ["list_projects"]
    assert available_operations("neo4j") == ["execute_query"]
    assert available_operations("mongodb") == []


def test_unsupported_type_is_a_bad_request():
    with pytest.raises(InvalidOperationParams) as info:
        get_template("oracle")
    assert info.value.field == "type"


@pytest.mark.parametrize("service_type", ["postgres", "redis", "qdrant", "mongodb"])
async def test_unknown_operation_lists_the_valid_ones(service_type):
    conn = ServiceConnection(name="x", type=service_type, url="http://127.0.0.1:1")
    template = get_template(service_type)
    with pytest.raises(UnknownOperationError) as info:
        await template.execute_operation(conn, "drop_everything", {})
    assert info.value.operation == "drop_everything"
    assert info.value.valid_operations == list(template.operations)
    for op in template.operations:
        assert op in info.value.message


async def test_params_must_be_an_object():
    conn = ServiceConnection(name="x", type="redis", url="redis://127.0.0.1:1")
    with pytest.raises(InvalidOperationParams) as info:
        await get_template("redis").execute_operation(conn, "get_key", ["k"])  # type: ignore[arg-type]
    assert info.value.field == "params"


@pytest.mark.parametrize(
    "name", ["svc", "svc_db", "svc-db", "_x", "a" * 63, "phoenix2", "litellm-prod_01"]
)
def test_identifiers_accepted(name):
    assert validate_identifier(name) == name
    assert quote_pg_identifier(name) == f'"{name}"'
    assert quote_mysql_identifier(name) == f"`{name}`"


@pytest.mark.parametrize(
    "name",
    ['bad"name', "x; drop table t", "has space", "UPPER", "", "a" * 64, "1abc", "-x", "a'b",
     "a`b", "a\\b", "ñandu", "a\nb", "a.b", None, 5],
)  # fmt: skip
def test_identifiers_rejected(name):
    with pytest.raises(InvalidOperationParams) as info:
        validate_identifier(name, field="db_name")
    assert info.value.field == "db_name"


def test_pg_literal_quoting():
    assert quote_pg_literal("plain") == "E'plain'"
    assert quote_pg_literal("it's \\ here") == "E'it''s \\\\ here'"
    with pytest.raises(InvalidOperationParams):
        quote_pg_literal("nul\x00byte")


def test_scram_verifier_round_trip():
    verifier = scram_sha256_verifier("s3cret", salt=b"0123456789abcdef")
    assert verifier.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")
    assert verify_scram_password("s3cret", verifier)
    assert not verify_scram_password("other", verifier)
    assert not verify_scram_password("s3cret", "md5abcdef")


def test_redact():
    assert redact("postgresql://admin:hunter2@db:5432/x failed") == (
        "postgresql://admin:***@db:5432/x failed"
    )
    assert redact("redis://:p@ss@host:6379/0") == "redis://:***@host:6379/0"
    assert redact("host=db password=hunter2 user=x") == "host=db password=*** user=x"
    assert redact("value hunter2 and hunter22", ["hunter2", "hunter22"]) == "value *** and ***"
    assert redact("nothing secret") == "nothing secret"


def test_errors_redact_their_messages_and_survive_pickling():
    error = ExternalServiceError("cannot reach mysql://root:topsecret@db:3306/app")
    assert "topsecret" not in str(error)
    for exc in (
        error,
        ExternalServiceError("x", retryable=False),
        InvalidOperationParams("bad", field="name"),
        UnknownOperationError("nope", ["a", "b"]),
    ):
        copy = pickle.loads(pickle.dumps(exc))
        assert type(copy) is type(exc) and str(copy) == str(exc)
        assert copy.retryable == exc.retryable
    assert InvalidOperationParams("bad").retryable is False
    assert ExternalServiceError("down").retryable is True


def test_service_connection_repr_hides_secrets():
    conn = ServiceConnection(
        name="db",
        type="postgres",
        url="postgresql://admin:url-secret@h/db",
        credentials={"password": "cred-secret"},
    )
    text = repr(conn) + str(conn)
    assert "url-secret" not in text and "cred-secret" not in text
    assert set(conn.secret_values()) >= {"url-secret", "cred-secret"}


def test_health_result_shape():
    result = HealthCheckResult(service_name="x", status="unknown", message="m")
    assert result.checked_at.tzinfo is UTC and result.details == {}
    with pytest.raises(ValueError):
        HealthCheckResult(service_name="x", status="fine", message="m")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("service_type", "url"),
    [
        ("postgres", "postgresql://admin:{s}@127.0.0.1:1/test"),
        ("mysql", "mysql://root:{s}@127.0.0.1:1/test"),
        ("redis", "redis://:{s}@127.0.0.1:1/0"),
        ("qdrant", "http://user:{s}@127.0.0.1:1"),
        ("mongodb", "mongodb://admin:{s}@127.0.0.1:1/db"),
    ],
)
async def test_closed_port_is_unhealthy_and_the_message_is_clean(service_type, url):
    secret = "Pa55-w0rd-very-secret"
    conn = ServiceConnection(
        name="closed",
        type=service_type,
        url=url.format(s=secret),
        credentials={"password": secret, "api_key": secret},
    )
    result = await get_template(service_type).health_check(conn)
    assert result.status == "unhealthy"
    assert "127.0.0.1:1" in result.message
    assert secret not in result.model_dump_json()


async def test_health_check_never_raises_on_a_bad_url():
    for service_type, url in [("postgres", "http://nope"), ("redis", ""), ("mysql", "pg://x")]:
        conn = ServiceConnection(name="bad", type=service_type, url=url)
        result = await get_template(service_type).health_check(conn)
        assert result.status == "unhealthy" and "URL" in result.message


async def test_mongodb_reachable_port_is_unknown_not_healthy():
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        conn = ServiceConnection(
            name="mongo",
            type="mongodb",
            url=f"mongodb://u:mongo-pw-1@127.0.0.1:1,127.0.0.1:{port}/db",
        )
        result = await get_template("mongodb").health_check(conn)
    finally:
        server.close()
        await server.wait_closed()
    assert result.status == "unknown"
    assert "pymongo" in result.message
    assert result.details["tcp_reachable"] == [False, True]


async def test_mongodb_srv_url_is_unknown():
    conn = ServiceConnection(name="m", type="mongodb", url="mongodb+srv://u:p@cluster0.example.net")
    result = await get_template("mongodb").health_check(conn)
    assert result.status == "unknown" and "mongodb+srv" in result.message
