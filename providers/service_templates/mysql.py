"""MySQL/MariaDB template (aiomysql): list, create and drop databases, run a query."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomysql
import pymysql

from providers.service_templates.base import MAX_ROWS, ExternalServiceTemplate, Health
from providers.service_templates.errors import (
    AuthenticationFailed,
    ExternalServiceError,
    InvalidOperationParams,
    redact,
)
from providers.service_templates.identifiers import quote_mysql_identifier
from providers.service_templates.params import Params
from providers.service_templates.types import ExternalServiceType, ServiceConnection

CONNECT_TIMEOUT_SECONDS = 5
SYSTEM_DATABASES = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
# Server error codes: access denied (1044/1045/1698), unknown database (1049).
_AUTH_ERRORS = {1044, 1045, 1698}
_UNKNOWN_DATABASE = 1049
_CONNECTION_ERRORS = {2002, 2003, 2006, 2013}


def _connect_args(conn: ServiceConnection) -> dict[str, Any]:
    url = conn.credentials.get("connection_string") or conn.url
    if not url:
        raise InvalidOperationParams(f"service {conn.name!r} has no URL", field="url")
    if not MySQLTemplate.accepts_url_scheme(url.partition("://")[0]):
        raise InvalidOperationParams(
            "MySQL URL must start with mysql:// or mariadb://", field="url"
        )
    try:
        parts = urlsplit(url)
        port = parts.port or 3306
    except ValueError:
        raise InvalidOperationParams("invalid MySQL URL", field="url") from None
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": port,
        "user": conn.credentials.get("username") or unquote(parts.username or "") or "root",
        "password": conn.credentials.get("password") or unquote(parts.password or ""),
        "db": unquote(parts.path.lstrip("/")) or None,
    }


class MySQLTemplate(ExternalServiceTemplate):
    service_type = ExternalServiceType.MYSQL
    url_schemes = ("mysql", "mariadb")
    url_scheme_drivers = True
    operations = ("list_databases", "execute_query", "create_database", "drop_database")

    @asynccontextmanager
    async def _session(
        self,
        conn: ServiceConnection,
        database: str | None = None,
        *,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    ) -> AsyncIterator[aiomysql.Connection]:
        args = _connect_args(conn)
        where = f"{args['host']}:{args['port']}"
        if database is not None:
            args["db"] = database
        secrets = conn.secret_values()
        try:
            my = await asyncio.wait_for(
                aiomysql.connect(
                    **args,
                    autocommit=True,
                    connect_timeout=connect_timeout,
                    charset="utf8mb4",
                ),
                connect_timeout + 1,
            )
        except pymysql.err.OperationalError as e:
            code = e.args[0] if e.args else None
            if code in _AUTH_ERRORS:
                raise AuthenticationFailed(
                    f"MySQL at {where} rejected the credentials for user {args['user']!r}"
                ) from None
            if code == _UNKNOWN_DATABASE and database is not None:
                raise InvalidOperationParams(
                    f"database {database!r:.80} does not exist", field="database"
                ) from None
            if code in _CONNECTION_ERRORS:
                raise ExternalServiceError(
                    f"cannot connect to MySQL at {where}: connection refused or unreachable"
                ) from None
            raise ExternalServiceError(redact(f"MySQL error {code}: {_text(e)}", secrets)) from None
        except (OSError, TimeoutError):
            raise ExternalServiceError(
                f"cannot connect to MySQL at {where}: connection refused or unreachable"
            ) from None
        try:
            yield my
        except pymysql.err.MySQLError as e:
            code = e.args[0] if e.args else None
            message = f"MySQL error {code}: {_text(e)}" if code else f"MySQL error: {_text(e)}"
            raise ExternalServiceError(redact(message, secrets), retryable=False) from None
        finally:
            my.close()

    async def probe(self, conn: ServiceConnection) -> Health:
        async with (
            self._session(conn, connect_timeout=self.health_timeout - 1) as my,
            my.cursor() as cur,
        ):
            await cur.execute("SELECT VERSION(), DATABASE(), CURRENT_USER()")
            version, database, user = await cur.fetchone()
        flavour = "MariaDB" if "mariadb" in version.lower() else "MySQL"
        return Health(
            "healthy",
            f"{flavour} {version} answered",
            {"version": version, "database": database, "user": user},
        )

    async def database_exists(self, conn: ServiceConnection, name: str) -> bool:
        quote_mysql_identifier(name)
        async with self._session(conn) as my:
            return await self._database_exists(my, name)

    async def ensure_database(self, conn: ServiceConnection, name: str) -> bool:
        """Create database `name` unless it exists; True if this call created it."""
        quoted = quote_mysql_identifier(name)
        async with self._session(conn) as my, my.cursor() as cur:
            if await self._database_exists(my, name):
                return False
            await cur.execute(f"CREATE DATABASE IF NOT EXISTS {quoted}")
            # IF NOT EXISTS turns a concurrent creation into a warning (0 rows) instead of an
            # error; a real creation reports 1 row.
            return cur.rowcount == 1

    async def drop_database_if_exists(self, conn: ServiceConnection, name: str) -> bool:
        quoted = quote_mysql_identifier(name)
        if name in SYSTEM_DATABASES:
            raise InvalidOperationParams(f"refusing to drop system database {name!r}", field="name")
        async with self._session(conn) as my, my.cursor() as cur:
            if not await self._database_exists(my, name):
                return False
            await cur.execute(f"DROP DATABASE IF EXISTS {quoted}")
            return True

    @staticmethod
    async def _database_exists(my: aiomysql.Connection, name: str) -> bool:
        async with my.cursor() as cur:
            await cur.execute(
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (name,)
            )
            return await cur.fetchone() is not None

    async def op_list_databases(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        params.finish()
        async with self._session(conn) as my, my.cursor() as cur:
            await cur.execute("SELECT schema_name FROM information_schema.schemata ORDER BY 1")
            rows = await cur.fetchall()
        return {"databases": [r[0] for r in rows]}

    async def op_create_database(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        name = params.identifier("name")
        params.finish()
        return {"database": name, "created": await self.ensure_database(conn, name)}

    async def op_drop_database(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        name = params.identifier("name")
        params.finish()
        return {"database": name, "dropped": await self.drop_database_if_exists(conn, name)}

    async def op_execute_query(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        query = params.required_string("query")
        database = params.string("database", required=False, max_length=64)
        args = params.sequence("args")
        max_rows = params.integer("max_rows", default=MAX_ROWS, minimum=1, maximum=MAX_ROWS)
        params.finish()
        assert max_rows is not None
        async with self._session(conn, database=database) as my:
            # An unbuffered cursor streams rows, so only max_rows + 1 are read into memory.
            cur = await my.cursor(aiomysql.SSCursor)
            # Without args pymysql does no %-interpolation, so a literal '%' in SQL is fine.
            try:
                await cur.execute(query, args if args else None)
            except (TypeError, ValueError):
                # pymysql interpolates args client-side with %-formatting.
                raise InvalidOperationParams(
                    "args do not match the query's %s placeholders "
                    "(with args, write a literal % as %%)",
                    field="args",
                ) from None
            if cur.description is None:
                affected = cur.rowcount
                await cur.close()
                return {
                    "columns": [],
                    "rows": [],
                    "row_count": max(affected, 0),
                    "truncated": False,
                }
            columns = [d[0] for d in cur.description]
            records = await cur.fetchmany(max_rows + 1)
            truncated = len(records) > max_rows
            if not truncated:
                await cur.close()
            # When truncated the connection is closed without draining the rest of the result.
        rows = [list(r) for r in records[:max_rows]]
        return {"columns": columns, "rows": rows, "row_count": len(rows), "truncated": truncated}


def _text(exc: BaseException) -> str:
    if len(exc.args) >= 2:
        return str(exc.args[1])
    return str(exc) or type(exc).__name__
