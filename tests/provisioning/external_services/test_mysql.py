"""MySQL/MariaDB template against the real server at TEST_MYSQL_URL."""

from __future__ import annotations

import json
import os
import uuid
from urllib.parse import urlsplit

import pytest

from providers.service_templates import (
    ExternalServiceError,
    InvalidOperationParams,
    ServiceConnection,
    get_template,
)
from providers.service_templates.mysql import MySQLTemplate
from tests.helpers.external_services import without_other_processes_names

MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")

my = MySQLTemplate()


def unique(prefix: str = "cs_my") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def conn() -> ServiceConnection:
    return ServiceConnection(name="test-mysql", type="mysql", url=MYSQL_URL)


async def databases(conn: ServiceConnection) -> list[str]:
    return (await my.execute_operation(conn, "list_databases"))["databases"]


async def test_registry_gives_the_mysql_template():
    assert isinstance(get_template("mysql"), MySQLTemplate)


async def test_health_is_healthy(conn):
    result = await my.health_check(conn)
    assert result.status == "healthy", result.message
    assert result.details["version"]


async def test_create_list_drop_round_trip(conn):
    name = unique("cs-my")
    try:
        assert "test" in await databases(conn)
        created = await my.execute_operation(conn, "create_database", {"name": name})
        assert created == {"database": name, "created": True}
        assert name in await databases(conn)
        again = await my.execute_operation(conn, "create_database", {"name": name})
        assert again == {"database": name, "created": False}
        dropped = await my.execute_operation(conn, "drop_database", {"name": name})
        assert dropped == {"database": name, "dropped": True}
        assert name not in await databases(conn)
        gone = await my.execute_operation(conn, "drop_database", {"name": name})
        assert gone == {"database": name, "dropped": False}
    finally:
        await my.drop_database_if_exists(conn, name)


async def test_execute_query(conn):
    result = await my.execute_operation(conn, "execute_query", {"query": "select 1 as one"})
    assert result == {"columns": ["one"], "rows": [[1]], "row_count": 1, "truncated": False}
    typed = await my.execute_operation(
        conn,
        "execute_query",
        {"query": "select %s as t, now() as ts, 1.50 as n, '100%%' as pct", "args": ["x"]},
    )
    json.dumps(typed)
    assert typed["rows"][0][:1] == ["x"] and typed["rows"][0][2:] == ["1.50", "100%"]
    with pytest.raises(InvalidOperationParams) as info:
        await my.execute_operation(
            conn, "execute_query", {"query": "select %s, %s", "args": ["only one"]}
        )
    assert info.value.field == "args"
    literal_percent = await my.execute_operation(
        conn, "execute_query", {"query": "select '100%' as pct"}
    )
    assert literal_percent["rows"] == [["100%"]]


async def test_execute_query_caps_rows_and_counts_dml(conn):
    table = unique("cs_tbl")
    try:
        capped = await my.execute_operation(
            conn,
            "execute_query",
            {
                "query": "with recursive s(n) as (select 1 union all select n + 1 from s "
                "where n < 1500) select n from s",
            },
        )
        assert capped["row_count"] == 1000 and capped["truncated"] is True
        await my.execute_operation(
            conn, "execute_query", {"query": f"create table {table} (id int)", "database": "test"}
        )
        inserted = await my.execute_operation(
            conn,
            "execute_query",
            {"query": f"insert into {table} values (1), (2), (3)", "database": "test"},
        )
        assert inserted["row_count"] == 3 and inserted["columns"] == []
        # The connection after a truncated read is not reused, so this must still work.
        counted = await my.execute_operation(
            conn, "execute_query", {"query": f"select count(*) from test.{table}"}
        )
        assert counted["rows"] == [[3]]
    finally:
        await my.execute_operation(
            conn, "execute_query", {"query": f"drop table if exists test.{table}"}
        )


async def test_sql_error_is_a_service_error(conn):
    with pytest.raises(ExternalServiceError, match="1146"):
        await my.execute_operation(conn, "execute_query", {"query": "select * from nope_xyz"})


@pytest.mark.parametrize("bad", ["bad`name", "x; drop database test", "has space", "UPPER", ""])
async def test_injection_in_names_is_rejected(conn, bad):
    before = await databases(conn)
    with pytest.raises(InvalidOperationParams) as info:
        await my.execute_operation(conn, "create_database", {"name": bad})
    assert info.value.field == "name"
    with pytest.raises(InvalidOperationParams):
        await my.execute_operation(conn, "drop_database", {"name": bad})
    # The server is shared: other test processes make and drop their own databases meanwhile, so
    # what is compared is what the rejected calls could have made or dropped.
    after = await databases(conn)
    assert without_other_processes_names(after) == without_other_processes_names(before)


async def test_system_databases_are_not_dropped(conn):
    with pytest.raises(InvalidOperationParams):
        await my.execute_operation(conn, "drop_database", {"name": "mysql"})


async def test_unreachable_server_is_unhealthy_without_the_password():
    secret = f"S3cret-{uuid.uuid4().hex}"
    closed = ServiceConnection(
        name="mysql-closed",
        type="mysql",
        url=f"mysql://root:{secret}@127.0.0.1:1/test",
        credentials={"password": secret},
    )
    health = await my.health_check(closed)
    assert health.status == "unhealthy" and "127.0.0.1:1" in health.message
    assert secret not in health.model_dump_json()
    with pytest.raises(ExternalServiceError) as info:
        await my.execute_operation(closed, "list_databases")
    assert secret not in str(info.value)


async def test_wrong_password_is_an_authentication_failure():
    parts = urlsplit(MYSQL_URL)
    secret = f"wrong-{uuid.uuid4().hex}"
    bad = ServiceConnection(
        name="mysql-bad-auth",
        type="mysql",
        url=f"mysql://{parts.hostname}:{parts.port or 3306}/test",
        credentials={"username": f"nobody_{uuid.uuid4().hex[:6]}", "password": secret},
    )
    health = await my.health_check(bad)
    assert health.status == "unhealthy" and "rejected the credentials" in health.message
    assert secret not in health.model_dump_json()
