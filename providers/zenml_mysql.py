"""The MySQL/MariaDB server behind customers' ZenML servers (aiomysql): one database and one user
per customer, created and dropped idempotently. Passwords are passed in by the caller (read from
Secret Manager inside an activity) and never appear in an error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote, unquote, urlsplit

import aiomysql
import pymysql

from providers.service_templates.identifiers import quote_mysql_identifier

CONNECT_TIMEOUT_SECONDS = 5
# Access denied, unknown host, server gone: retry can't fix the first, the others may pass.
_FINAL_ERRORS = {1044, 1045, 1698, 1064, 1396}


class MySQLProblem(Exception):
    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class ZenMLDatabases:
    def __init__(self, admin_url: str, host_for_server: str | None = None) -> None:
        parts = urlsplit(admin_url)
        self._args = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 3306,
            "user": unquote(parts.username or "root"),
            "password": unquote(parts.password or ""),
        }
        self.host_for_server = host_for_server or self._args["host"]

    def store_url(self, database: str, password: str) -> str:
        """ZENML_STORE_URL: TCP only, no query parameters ZenML refuses (WIRE_APIS §3)."""
        user = quote(database, safe="")
        return (
            f"mysql://{user}:{quote(password, safe='')}@{self.host_for_server}:"
            f"{self._args['port']}/{database}"
        )

    @asynccontextmanager
    async def _session(self, what: str) -> AsyncIterator[aiomysql.Cursor]:
        try:
            conn = await aiomysql.connect(
                **self._args, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
            )
        except (pymysql.err.OperationalError, OSError) as error:
            code = error.args[0] if error.args and isinstance(error.args[0], int) else None
            raise MySQLProblem(
                f"{what}: cannot connect to the ZenML MySQL server (error {code})",
                retryable=code not in _FINAL_ERRORS,
            ) from None
        try:
            async with conn.cursor() as cursor:
                yield cursor
        except pymysql.err.MySQLError as error:
            code = error.args[0] if error.args and isinstance(error.args[0], int) else None
            raise MySQLProblem(
                f"{what}: MySQL error {code}", retryable=code not in _FINAL_ERRORS
            ) from None
        finally:
            conn.close()

    async def exists(self, name: str) -> tuple[bool, bool]:
        """(database exists, user exists)."""
        async with self._session(f"checking {name}") as cur:
            await cur.execute(
                "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = %s", (name,)
            )
            (databases,) = await cur.fetchone()
            await cur.execute("SELECT COUNT(*) FROM mysql.user WHERE user = %s", (name,))
            (users,) = await cur.fetchone()
        return bool(databases), bool(users)

    async def ensure(self, name: str, password: str) -> None:
        """The database, and a user of the same name with every privilege on it (and only it)."""
        db = quote_mysql_identifier(name)
        async with self._session(f"creating database and user {name}") as cur:
            await cur.execute(f"CREATE DATABASE IF NOT EXISTS {db} CHARACTER SET utf8mb4")
            await cur.execute(
                "CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (name, password)
            )
            # A retried step finds the user made by an earlier attempt: the password is the same
            # secret's value, set again so the store URL always works.
            await cur.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (name, password))
            await cur.execute(f"GRANT ALL PRIVILEGES ON {db}.* TO %s@'%%'", (name,))

    async def drop(self, name: str) -> bool:
        """Drops the database and the user; False when neither existed."""
        database, user = await self.exists(name)
        async with self._session(f"dropping database and user {name}") as cur:
            if database:
                await cur.execute(f"DROP DATABASE IF EXISTS {quote_mysql_identifier(name)}")
            if user:
                await cur.execute("DROP USER IF EXISTS %s@'%%'", (name,))
        return database or user
