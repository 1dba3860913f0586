"""PostgreSQL template against the real server at TEST_POSTGRES_URL."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from providers.service_templates import (
    ExternalServiceError,
    InvalidOperationParams,
    PostgresTemplate,
    ServiceConnection,
    connection_string,
    get_template,
)
from providers.service_templates.pg_passwords import verify_scram_password
from tests.helpers.external_services import without_other_processes_names

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
INJECTIONS = ['bad"name', "x; drop table t", "has space", "UPPER", "", "a" * 64, "1abc", "a'b"]

pg = PostgresTemplate()


def unique(prefix: str = "cs_pg") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def conn() -> ServiceConnection:
    return ServiceConnection(name="test-postgres", type="postgres", url=PG_URL)


async def admin() -> asyncpg.Connection:
    return await asyncpg.connect(PG_URL)


async def database_names() -> set[str]:
    a = await admin()
    try:
        return {r[0] for r in await a.fetch("SELECT datname FROM pg_database")}
    finally:
        await a.close()


async def role_names() -> set[str]:
    a = await admin()
    try:
        return {r[0] for r in await a.fetch("SELECT rolname FROM pg_roles")}
    finally:
        await a.close()


async def stored_verifier(role: str) -> str:
    a = await admin()
    try:
        return await a.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role)
    finally:
        await a.close()


async def cleanup(conn: ServiceConnection, name: str) -> None:
    await pg.drop_database_if_exists(conn, name)
    await pg.drop_role_if_exists(conn, name)


async def test_registry_gives_the_postgres_template():
    assert isinstance(get_template("postgres"), PostgresTemplate)


async def test_health_is_healthy(conn):
    result = await pg.health_check(conn)
    assert result.status == "healthy", result.message
    assert result.details["database"] == urlsplit(PG_URL).path.lstrip("/")
    assert result.details["version"]
    assert result.checked_at.tzinfo is not None


async def test_list_databases_contains_test(conn):
    result = await pg.execute_operation(conn, "list_databases", {})
    assert "test" in result["databases"]
    assert "template0" not in result["databases"]


async def test_create_and_drop_database_round_trip(conn):
    name = unique("cs-pg")  # hyphens are allowed, and quoted
    try:
        assert await pg.execute_operation(conn, "create_database", {"name": name}) == {
            "database": name,
            "created": True,
        }
        assert name in (await pg.execute_operation(conn, "list_databases"))["databases"]
        again = await pg.execute_operation(conn, "create_database", {"name": name})
        assert again == {"database": name, "created": False}
        # A session on the database must not stop the drop.
        holder = await asyncpg.connect(PG_URL, database=name)
        try:
            dropped = await pg.execute_operation(conn, "drop_database", {"name": name})
        finally:
            holder.terminate()
        assert dropped == {"database": name, "dropped": True}
        assert name not in await database_names()
        assert await pg.execute_operation(conn, "drop_database", {"name": name}) == {
            "database": name,
            "dropped": False,
        }
    finally:
        await pg.drop_database_if_exists(conn, name)


async def test_execute_query_select_one(conn):
    result = await pg.execute_operation(conn, "execute_query", {"query": "select 1 as one"})
    assert result == {"columns": ["one"], "rows": [[1]], "row_count": 1, "truncated": False}


async def test_execute_query_binds_args_and_converts_values(conn):
    result = await pg.execute_operation(
        conn,
        "execute_query",
        {
            "query": "select $1::text as t, now() as ts, 1.50::numeric as n, "
            "'\\x0102'::bytea as b, interval '90 seconds' as i, "
            "gen_random_uuid() as u, null as z, 1, 1",
            "args": ["hello"],
        },
    )
    json.dumps(result)  # JSON-serialisable as it is
    row = result["rows"][0]
    assert result["columns"][:7] == ["t", "ts", "n", "b", "i", "u", "z"]
    assert row[0] == "hello" and row[2] == "1.50" and row[3] == "AQI=" and row[4] == 90.0
    assert isinstance(row[1], str) and "T" in row[1]
    assert row[6] is None and row[7:] == [1, 1]  # duplicate column names keep their place


async def test_execute_query_caps_rows(conn):
    result = await pg.execute_operation(
        conn, "execute_query", {"query": "select generate_series(1, 1500) as n"}
    )
    assert result["row_count"] == 1000 and result["truncated"] is True
    assert result["rows"][-1] == [1000]
    small = await pg.execute_operation(
        conn, "execute_query", {"query": "select generate_series(1, 20)", "max_rows": 5}
    )
    assert small["row_count"] == 5 and small["truncated"] is True


async def test_execute_query_statements_without_rows(conn):
    table = unique("cs_tbl")
    try:
        created = await pg.execute_operation(
            conn, "execute_query", {"query": f"create table {table} (id int)"}
        )
        assert created["status"] == "CREATE TABLE" and created["rows"] == []
        inserted = await pg.execute_operation(
            conn,
            "execute_query",
            {"query": f"insert into {table} select generate_series(1, $1::int)", "args": [3]},
        )
        assert inserted["row_count"] == 3
        script = await pg.execute_operation(
            conn,
            "execute_query",
            {"query": f"insert into {table} values (9); delete from {table} where id = 9"},
        )
        assert script["status"].startswith("DELETE")
    finally:
        await pg.execute_operation(
            conn, "execute_query", {"query": f"drop table if exists {table}"}
        )


async def test_execute_query_args_must_fit_the_placeholders(conn):
    for args in ([], [1, 2], ["not a number"]):
        with pytest.raises(InvalidOperationParams) as info:
            await pg.execute_operation(
                conn, "execute_query", {"query": "select $1::int + 1", "args": args}
            )
        assert info.value.field == "args"


async def test_execute_query_can_create_a_database(conn):
    # CREATE DATABASE cannot run in a transaction block: statements without rows must not use one.
    name = unique()
    try:
        result = await pg.execute_operation(
            conn, "execute_query", {"query": f'create database "{name}"'}
        )
        assert result["status"] == "CREATE DATABASE"
    finally:
        await pg.drop_database_if_exists(conn, name)


async def test_execute_query_sql_error_is_a_service_error(conn):
    with pytest.raises(ExternalServiceError, match="42P01"):
        await pg.execute_operation(
            conn, "execute_query", {"query": "select * from no_such_table_xyz"}
        )


async def test_execute_query_in_unknown_database_is_a_bad_param(conn):
    with pytest.raises(InvalidOperationParams) as info:
        await pg.execute_operation(
            conn, "execute_query", {"query": "select 1", "database": unique()}
        )
    assert info.value.field == "database"


async def test_list_tables(conn):
    table = unique("cs_tbl")
    try:
        await pg.execute_operation(
            conn, "execute_query", {"query": f"create table {table} (id int)"}
        )
        await pg.execute_operation(
            conn, "execute_query", {"query": f"create view {table}_v as select * from {table}"}
        )
        result = await pg.execute_operation(conn, "list_tables", {"database": "test"})
        assert result["database"] == "test" and result["schema"] == "public"
        assert {"name": table, "type": "table"} in result["tables"]
        assert {"name": f"{table}_v", "type": "view"} in result["tables"]
        other = await pg.execute_operation(conn, "list_tables", {"schema": "pg_catalog"})
        assert {"name": "pg_class", "type": "table"} in other["tables"]
    finally:
        await pg.execute_operation(
            conn,
            "execute_query",
            {"query": f"drop view if exists {table}_v; drop table if exists {table}"},
        )


async def test_create_service_database_gives_a_working_user(conn):
    name = unique()
    password = f"p'a\"s\\s;-- {uuid.uuid4().hex}"
    try:
        first = await pg.execute_operation(
            conn, "create_service_database", {"db_name": name, "password": password}
        )
        assert first == {
            "database": name,
            "username": name,
            "database_created": True,
            "role_created": True,
        }
        again = await pg.execute_operation(
            conn, "create_service_database", {"db_name": name, "password": password}
        )
        assert again["database_created"] is False and again["role_created"] is False

        # The server stores a SCRAM verifier of exactly this password (not the clear text).
        verifier = await stored_verifier(name)
        assert verifier.startswith("SCRAM-SHA-256$") and password not in verifier
        assert verify_scram_password(password, verifier)

        # Connect as the new user with its connection string and create a table: proves the
        # grants, including CREATE on schema public that PostgreSQL 15 no longer gives.
        dsn = connection_string(PG_URL, name, password)
        assert dsn.startswith(f"postgresql://{name}:") and dsn.endswith(f"/{name}")
        user = await asyncpg.connect(dsn)
        try:
            assert await user.fetchval("select current_user") == name
            await user.execute("create table widgets (id int primary key, label text)")
            await user.execute("insert into widgets values (1, 'a')")
            assert await user.fetchval("select count(*) from widgets") == 1
            assert not await user.fetchval(
                "select rolsuper from pg_roles where rolname = current_user"
            )
        finally:
            await user.close()
    finally:
        await cleanup(conn, name)
    assert name not in await database_names()
    assert name not in await role_names()


async def test_each_step_is_idempotent(conn):
    name = unique()
    try:
        assert await pg.database_exists(conn, name) is False
        assert await pg.ensure_database(conn, name) is True
        assert await pg.ensure_database(conn, name) is False
        assert await pg.database_exists(conn, name) is True

        assert await pg.role_exists(conn, name) is False
        assert await pg.ensure_role(conn, name, "first-password") is True
        # An existing role gets the new password.
        assert await pg.ensure_role(conn, name, "second-password") is False
        assert verify_scram_password("second-password", await stored_verifier(name))
        assert await pg.role_exists(conn, name) is True

        await pg.grant_service_privileges(conn, name, name)
        await pg.grant_service_privileges(conn, name, name)
        assert sorted(await database_names()).count(name) == 1
    finally:
        assert await pg.drop_database_if_exists(conn, name) is True
        assert await pg.drop_database_if_exists(conn, name) is False
        assert await pg.drop_role_if_exists(conn, name) is True
        assert await pg.drop_role_if_exists(conn, name) is False


async def test_concurrent_attempts_of_each_step_do_not_fail(conn):
    # A Temporal retry can overlap a slow first attempt: both must succeed, one creating.
    name = unique()
    try:
        created = await asyncio.gather(*(pg.ensure_database(conn, name) for _ in range(3)))
        assert sorted(created) == [False, False, True]
        created = await asyncio.gather(*(pg.ensure_role(conn, name, "pw-12345") for _ in range(3)))
        assert sorted(created) == [False, False, True]
        results = await asyncio.gather(
            *(pg.create_service_database(conn, name, "pw-12345") for _ in range(3))
        )
        assert all(r["database"] == name for r in results)
        dropped = await asyncio.gather(*(pg.drop_database_if_exists(conn, name) for _ in range(3)))
        assert sorted(dropped) == [False, False, True]
        dropped = await asyncio.gather(*(pg.drop_role_if_exists(conn, name) for _ in range(3)))
        assert sorted(dropped) == [False, False, True]
    finally:
        await cleanup(conn, name)


async def test_drop_role_while_its_database_still_exists(conn):
    name = unique()
    try:
        await pg.create_service_database(conn, name, "pw-1234")
        user = await asyncpg.connect(connection_string(PG_URL, name, "pw-1234"))
        try:
            await user.execute("create table owned_by_role (id int)")
        finally:
            await user.close()
        assert await pg.drop_role_if_exists(conn, name) is True
        assert name not in await role_names()
    finally:
        await cleanup(conn, name)


async def test_non_ascii_password_is_sent_as_an_escaped_literal(conn):
    name = unique()
    password = "contraseña-ñ'\\\"x"
    try:
        await pg.ensure_role(conn, name, password)
        # The server computed the verifier itself; it must match the exact password.
        assert verify_scram_password(password, await stored_verifier(name))
    finally:
        await pg.drop_role_if_exists(conn, name)


@pytest.mark.parametrize("bad", INJECTIONS)
async def test_injection_in_names_is_rejected_and_nothing_is_created(conn, bad):
    dbs_before, roles_before = await database_names(), await role_names()
    with pytest.raises(InvalidOperationParams) as info:
        await pg.execute_operation(conn, "create_database", {"name": bad})
    assert info.value.field == "name"
    with pytest.raises(InvalidOperationParams) as info:
        await pg.execute_operation(
            conn, "create_service_database", {"db_name": bad, "password": "x"}
        )
    assert info.value.field == "db_name"
    with pytest.raises(InvalidOperationParams):
        await pg.execute_operation(conn, "drop_database", {"name": bad})
    with pytest.raises(InvalidOperationParams):
        await pg.ensure_role(conn, bad, "x")
    with pytest.raises(InvalidOperationParams):
        await pg.grant_service_privileges(conn, "test", bad)
    # Other suites sharing this server create `cs_pg_<hex>` names meanwhile: none can come from a
    # rejected name, so only the rest is compared.
    assert without_other_processes_names(await database_names()) == without_other_processes_names(
        dbs_before
    )
    assert without_other_processes_names(await role_names()) == without_other_processes_names(
        roles_before
    )


async def test_missing_and_unexpected_params_name_the_field(conn):
    with pytest.raises(InvalidOperationParams) as info:
        await pg.execute_operation(conn, "create_service_database", {"db_name": unique()})
    assert info.value.field == "password"
    with pytest.raises(InvalidOperationParams) as info:
        await pg.execute_operation(conn, "execute_query", {"query": "select 1", "limit": 3})
    assert info.value.field == "limit"
    with pytest.raises(InvalidOperationParams) as info:
        await pg.execute_operation(conn, "execute_query", {"query": "select 1", "max_rows": 0})
    assert info.value.field == "max_rows"


async def test_system_and_own_databases_are_not_dropped(conn):
    for name in ("postgres", "template1", "test"):
        with pytest.raises(InvalidOperationParams):
            await pg.execute_operation(conn, "drop_database", {"name": name})
    with pytest.raises(InvalidOperationParams):
        await pg.drop_role_if_exists(conn, urlsplit(PG_URL).username or "postgres")


async def test_error_messages_never_contain_the_password(conn):
    secret = f"S3cret-{uuid.uuid4().hex}"
    parts = urlsplit(PG_URL)
    with_password = ServiceConnection(
        name="pg-secret",
        type="postgres",
        url=f"postgresql://{parts.username}:{secret}@{parts.hostname}:{parts.port}{parts.path}",
    )
    # The server echoes the value in its error; the message must not.
    with pytest.raises(ExternalServiceError) as info:
        await pg.execute_operation(
            with_password, "execute_query", {"query": f"select '{secret}'::int"}
        )
    assert secret not in str(info.value) and "***" in str(info.value)
    closed = ServiceConnection(
        name="pg-closed",
        type="postgres",
        url=f"postgresql://{parts.username}:{secret}@127.0.0.1:1/test",
        credentials={"password": secret},
    )
    with pytest.raises(ExternalServiceError) as info:
        await pg.execute_operation(
            closed, "create_service_database", {"db_name": unique(), "password": secret}
        )
    assert secret not in str(info.value) and "127.0.0.1:1" in str(info.value)
    health = await pg.health_check(closed)
    assert health.status == "unhealthy"
    assert secret not in health.model_dump_json()


async def test_credentials_override_the_url(conn):
    parts = urlsplit(PG_URL)
    bare = ServiceConnection(
        name="pg-bare",
        type="postgres",
        url=f"postgresql://{parts.hostname}:{parts.port}{parts.path}",
        credentials={"username": parts.username or "postgres", "password": "unused-with-trust"},
    )
    result = await pg.execute_operation(bare, "execute_query", {"query": "select current_user"})
    assert result["rows"] == [[parts.username or "postgres"]]


def test_connection_string_encodes_the_password():
    dsn = connection_string(
        "postgresql://admin:pw@ep-x.neon.tech:5432/neondb?sslmode=require", "svc_db", "a@b/c:d"
    )
    assert dsn == "postgresql://svc_db:a%40b%2Fc%3Ad@ep-x.neon.tech:5432/svc_db?sslmode=require"
    assert connection_string("postgres://h/db", "x", "p") == "postgresql://x:p@h/x"
    with pytest.raises(InvalidOperationParams):
        connection_string("postgresql://h/db", "Bad Name", "p")
