"""PostgreSQL template (asyncpg): queries, databases, and the idempotent steps of a service database."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import asyncpg

from providers.service_templates.base import (
    MAX_ROWS,
    ExternalServiceTemplate,
    Health,
)
from providers.service_templates.errors import (
    AuthenticationFailed,
    ExternalServiceError,
    InvalidOperationParams,
    redact,
)
from providers.service_templates.identifiers import quote_pg_identifier, validate_identifier
from providers.service_templates.params import Params
from providers.service_templates.pg_passwords import password_sql
from providers.service_templates.types import ExternalServiceType, ServiceConnection

CONNECT_TIMEOUT_SECONDS = 5.0
COMMAND_TIMEOUT_SECONDS = 30.0
# Databases a service-database saga or an API client must never drop.
SYSTEM_DATABASES = frozenset({"postgres", "template0", "template1"})
_RELKINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}


def _admin_dsn(conn: ServiceConnection) -> str:
    """The DSN to connect with: a `connection_string` credential wins over the public URL."""
    dsn = conn.credentials.get("connection_string") or conn.url
    if not dsn:
        raise InvalidOperationParams(f"service {conn.name!r} has no URL", field="url")
    scheme, sep, rest = dsn.partition("://")
    # SQLAlchemy-style `postgresql+asyncpg://` is common in settings; asyncpg wants the bare scheme.
    if not sep or not PostgresTemplate.accepts_url_scheme(scheme):
        raise InvalidOperationParams(
            "PostgreSQL URL must start with postgresql:// or postgres://", field="url"
        )
    return f"postgresql://{rest}"


def _host_port(dsn: str) -> str:
    try:
        parts = urlsplit(dsn)
        return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    except ValueError:
        return "the configured host"


def connection_string(host_url: str, db: str, password: str) -> str:
    """`postgresql://{db}:{password}@{host[:port]}/{db}` for a service database's own user.

    The password is percent-encoded so any character survives; `sslmode` from the admin URL
    is kept because a server that demands TLS from the admin demands it from everyone.
    """
    validate_identifier(db, field="db_name")
    if not password:
        raise InvalidOperationParams("password must not be empty", field="password")
    try:
        parts = urlsplit(host_url if "://" in host_url else f"postgresql://{host_url}")
        host = parts.hostname
        port = parts.port
    except ValueError:
        host, port = None, None
    if not host:
        raise InvalidOperationParams("cannot find a host in the service URL", field="url")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    ssl = [(k, v) for k, v in parse_qsl(parts.query) if k == "sslmode"]
    query = f"?{urlencode(ssl)}" if ssl else ""
    return f"postgresql://{db}:{quote(password, safe='')}@{netloc}/{db}{query}"


def _lock_key(name: str) -> int:
    """A stable 64-bit advisory-lock key for one database/role name."""
    digest = hashlib.sha256(f"conneskills:external-services:pg:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@asynccontextmanager
async def _name_lock(pg: asyncpg.Connection, name: str) -> AsyncIterator[None]:
    """Serialise DDL on one name across every caller connected to the same admin database.

    Two attempts of a saga step racing each other (a retry overlapping a slow first try)
    would otherwise both pass the existence check and then fail on the catalog's unique index,
    or fail with "tuple concurrently updated" on concurrent ALTER/GRANT of the same object.
    The lock is session-level, so it is released even if the connection dies.
    """
    key = _lock_key(name)
    await pg.execute("SELECT pg_advisory_lock($1)", key)
    try:
        yield
    finally:
        try:
            await pg.execute("SELECT pg_advisory_unlock($1)", key)
        except Exception:  # noqa: BLE001
            # Interrupted mid-query (cancelled, timed out): ending the session frees the lock.
            pg.terminate()


# SQLSTATE classes worth retrying: connection trouble, serialization failure/deadlock,
# resources, lock not available, admin shutdown, system errors. The rest (syntax, permissions,
# constraint violations) fail the same way on every attempt.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "55", "57", "58"})


def _is_transient(exc: asyncpg.PostgresError) -> bool:
    return str(getattr(exc, "sqlstate", "") or "")[:2] in _TRANSIENT_SQLSTATE_CLASSES


def _pg_error(exc: asyncpg.PostgresError) -> str:
    sqlstate = getattr(exc, "sqlstate", None)
    text = str(exc).strip() or type(exc).__name__
    return f"PostgreSQL error {sqlstate}: {text}" if sqlstate else f"PostgreSQL error: {text}"


class PostgresTemplate(ExternalServiceTemplate):
    service_type = ExternalServiceType.POSTGRES
    url_schemes = ("postgresql", "postgres")
    url_scheme_drivers = True
    operations = (
        "list_databases",
        "execute_query",
        "list_tables",
        "create_database",
        "drop_database",
        "create_service_database",
    )

    # --- connections -------------------------------------------------------------------------

    @asynccontextmanager
    async def _session(
        self,
        conn: ServiceConnection,
        database: str | None = None,
        *,
        extra_secrets: tuple[str, ...] = (),
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    ) -> AsyncIterator[asyncpg.Connection]:
        """An admin connection; every driver error inside becomes a redacted service error."""
        dsn = _admin_dsn(conn)
        where = _host_port(dsn)
        secrets = [*conn.secret_values(), *extra_secrets]
        try:
            pg = await asyncpg.connect(
                dsn,
                user=conn.credentials.get("username") or None,
                password=conn.credentials.get("password") or None,
                database=database,
                timeout=connect_timeout,
                command_timeout=COMMAND_TIMEOUT_SECONDS,
            )
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as e:
            raise AuthenticationFailed(
                redact(f"PostgreSQL at {where} rejected the credentials: {e}", secrets)
            ) from None
        except asyncpg.InvalidCatalogNameError:
            if database is not None:
                raise InvalidOperationParams(
                    f"database {database!r:.80} does not exist", field="database"
                ) from None
            raise ExternalServiceError(
                f"the database in the URL of {conn.name!r} does not exist", retryable=False
            ) from None
        except asyncpg.PostgresError as e:
            raise ExternalServiceError(redact(_pg_error(e), secrets)) from None
        except OSError as e:  # TimeoutError and ConnectionRefusedError included
            reason = (
                "timed out" if isinstance(e, TimeoutError) else "connection refused or unreachable"
            )
            raise ExternalServiceError(
                f"cannot connect to PostgreSQL at {where}: {reason}"
            ) from None
        except ValueError as e:  # asyncpg's DSN parser
            raise InvalidOperationParams(
                redact(f"invalid PostgreSQL URL: {e}", secrets), field="url"
            ) from None
        try:
            yield pg
        except asyncpg.PostgresError as e:
            raise ExternalServiceError(
                redact(_pg_error(e), secrets), retryable=_is_transient(e)
            ) from None
        except (OSError, asyncpg.InterfaceError) as e:
            raise ExternalServiceError(redact(f"PostgreSQL client error: {e}", secrets)) from None
        finally:
            try:
                await asyncio.wait_for(pg.close(), 5)
            except Exception:  # noqa: BLE001 - the connection is going away either way
                pg.terminate()

    # --- health --------------------------------------------------------------------------------

    async def probe(self, conn: ServiceConnection) -> Health:
        async with self._session(conn, connect_timeout=self.health_timeout - 1) as pg:
            row = await pg.fetchrow(
                "SELECT current_database() AS db, current_user AS usr, "
                "current_setting('server_version') AS version"
            )
        return Health(
            "healthy",
            f"PostgreSQL {row['version']} answered",
            {"version": row["version"], "database": row["db"], "user": row["usr"]},
        )

    # --- idempotent steps (the service-database saga calls these one by one) -----------------

    async def database_exists(self, conn: ServiceConnection, name: str) -> bool:
        validate_identifier(name, field="name")
        async with self._session(conn) as pg:
            return await self._database_exists(pg, name)

    async def role_exists(self, conn: ServiceConnection, name: str) -> bool:
        validate_identifier(name, field="name")
        async with self._session(conn) as pg:
            return await self._role_exists(pg, name)

    async def ensure_database(self, conn: ServiceConnection, name: str) -> bool:
        """Create database `name` unless it exists; True if this call created it."""
        quoted = quote_pg_identifier(name)
        async with self._session(conn) as pg, _name_lock(pg, name):
            if await self._database_exists(pg, name):
                return False
            try:
                # asyncpg's execute() without arguments uses the simple protocol and no
                # transaction block, which CREATE DATABASE requires.
                await pg.execute(f"CREATE DATABASE {quoted}")
            except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                return False  # created meanwhile by a caller that does not take our lock
            return True

    async def ensure_role(self, conn: ServiceConnection, name: str, password: str) -> bool:
        """Create login role `name` with `password`; an existing role gets the password set.

        Returns True if this call created the role.
        """
        quoted = quote_pg_identifier(name)
        if not isinstance(password, str) or not password:
            raise InvalidOperationParams("password must be a non-empty string", field="password")
        async with self._session(conn, extra_secrets=(password,)) as pg, _name_lock(pg, name):
            literal = password_sql(password, pg.get_server_version().major)
            if await self._role_exists(pg, name):
                await pg.execute(f"ALTER ROLE {quoted} WITH LOGIN PASSWORD {literal}")
                return False
            try:
                await pg.execute(f"CREATE ROLE {quoted} WITH LOGIN PASSWORD {literal}")
            except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
                await pg.execute(f"ALTER ROLE {quoted} WITH LOGIN PASSWORD {literal}")
                return False
            return True

    async def grant_service_privileges(
        self, conn: ServiceConnection, db_name: str, role: str
    ) -> None:
        """ALL on the database, and inside it ALL on schema public.

        Since PostgreSQL 15 ordinary users no longer get CREATE on `public`, so the database
        grant alone would leave the service unable to create its tables.
        """
        quoted_db = quote_pg_identifier(db_name)
        quoted_role = quote_pg_identifier(role)
        async with self._session(conn) as pg, _name_lock(pg, db_name):
            await pg.execute(f"GRANT ALL PRIVILEGES ON DATABASE {quoted_db} TO {quoted_role}")
            # Still under the lock: concurrent GRANTs on one schema also collide.
            async with self._session(conn, database=db_name) as in_db:
                await in_db.execute(f"GRANT ALL ON SCHEMA public TO {quoted_role}")

    async def drop_database_if_exists(self, conn: ServiceConnection, name: str) -> bool:
        """Terminate other sessions on `name`, then drop it; True if it existed."""
        quoted = quote_pg_identifier(name)
        if name in SYSTEM_DATABASES:
            raise InvalidOperationParams(f"refusing to drop system database {name!r}", field="name")
        async with self._session(conn) as pg, _name_lock(pg, name):
            if name == await pg.fetchval("SELECT current_database()"):
                raise InvalidOperationParams(
                    f"refusing to drop {name!r}: it is the service's own admin database",
                    field="name",
                )
            if not await self._database_exists(pg, name):
                return False
            await pg.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            # FORCE (13+) also closes sessions that connected after the terminate above.
            force = " WITH (FORCE)" if pg.get_server_version().major >= 13 else ""
            await pg.execute(f"DROP DATABASE IF EXISTS {quoted}{force}")
            return True

    async def drop_role_if_exists(self, conn: ServiceConnection, name: str) -> bool:
        """Drop login role `name` and what it owns; True if it existed.

        `DROP OWNED BY` runs in the admin database (it also revokes privileges on databases)
        and, if present, in the database of the same name, which is where a service role made
        by create_service_database owns things. Drop that database first in a compensation.
        """
        quoted = quote_pg_identifier(name)
        async with self._session(conn) as pg, _name_lock(pg, name):
            me = await pg.fetchval("SELECT current_user")
            if name == me:
                raise InvalidOperationParams(
                    f"refusing to drop {name!r}: it is the role this service connects as",
                    field="name",
                )
            row = await pg.fetchrow("SELECT rolsuper FROM pg_roles WHERE rolname = $1", name)
            if row is None:
                return False
            if row["rolsuper"]:
                raise InvalidOperationParams(
                    f"refusing to drop {name!r}: it is a superuser", field="name"
                )
            admin_db = await pg.fetchval("SELECT current_database()")
            if name != admin_db and await self._database_exists(pg, name):
                async with self._session(conn, database=name) as in_db:
                    await in_db.execute(f"DROP OWNED BY {quoted}")
            await pg.execute(f"DROP OWNED BY {quoted}")
            try:
                await pg.execute(f"DROP ROLE IF EXISTS {quoted}")
            except asyncpg.DependentObjectsStillExistError as e:
                raise ExternalServiceError(
                    f"role {name!r} still owns objects or holds privileges elsewhere: {e}",
                    retryable=False,
                ) from None
            return True

    async def create_service_database(
        self, conn: ServiceConnection, db_name: str, password: str
    ) -> dict[str, Any]:
        """Database + login role of the same name + grants; safe to call again."""
        validate_identifier(db_name, field="db_name")
        if not isinstance(password, str) or not password:
            raise InvalidOperationParams("password must be a non-empty string", field="password")
        database_created = await self.ensure_database(conn, db_name)
        role_created = await self.ensure_role(conn, db_name, password)
        await self.grant_service_privileges(conn, db_name, db_name)
        return {
            "database": db_name,
            "username": db_name,
            "database_created": database_created,
            "role_created": role_created,
        }

    @staticmethod
    async def _database_exists(pg: asyncpg.Connection, name: str) -> bool:
        return bool(await pg.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))

    @staticmethod
    async def _role_exists(pg: asyncpg.Connection, name: str) -> bool:
        return bool(await pg.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name))

    # --- operations ----------------------------------------------------------------------------

    async def op_list_databases(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        params.finish()
        async with self._session(conn) as pg:
            rows = await pg.fetch(
                "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname"
            )
        return {"databases": [r["datname"] for r in rows]}

    async def op_list_tables(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        database = params.string("database", required=False, max_length=63)
        schema = params.string("schema", required=False, default="public", max_length=63)
        params.finish()
        async with self._session(conn, database=database) as pg:
            current = await pg.fetchval("SELECT current_database()")
            rows = await pg.fetch(
                "SELECT c.relname, c.relkind::text AS relkind FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = $1 AND c.relkind::text = ANY($2::text[]) ORDER BY c.relname",
                schema,
                list(_RELKINDS),
            )
        return {
            "database": current,
            "schema": schema,
            "tables": [{"name": r["relname"], "type": _RELKINDS[r["relkind"]]} for r in rows],
        }

    async def op_execute_query(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        query = params.required_string("query")
        database = params.string("database", required=False, max_length=63)
        args = params.sequence("args") or []
        max_rows = params.integer("max_rows", default=MAX_ROWS, minimum=1, maximum=MAX_ROWS)
        params.finish()
        assert max_rows is not None
        async with self._session(conn, database=database) as pg:
            try:
                statement = await pg.prepare(query)
            except asyncpg.PostgresSyntaxError as e:
                # Several statements cannot be prepared; the simple protocol runs them as a
                # script, without results and without bind arguments.
                if "multiple commands" not in str(e) or args:
                    raise
                status = await pg.execute(query)
                return _status_result(status)
            expected = len(statement.get_parameters())
            if expected != len(args):
                raise InvalidOperationParams(
                    f"the query has {expected} placeholder(s) ($1...) but {len(args)} args were given",
                    field="args",
                )
            columns = [a.name for a in statement.get_attributes()]
            try:
                if not columns:
                    return _status_result(await pg.execute(query, *args))
                # A cursor fetches only max_rows + 1 rows from the server, however big the
                # result is.
                async with pg.transaction():
                    cursor = await statement.cursor(*args)
                    records = await cursor.fetch(max_rows + 1)
            except asyncpg.DataError as e:
                # asyncpg could not encode an argument for its placeholder's type.
                raise InvalidOperationParams(f"invalid args: {e}", field="args") from None
        truncated = len(records) > max_rows
        rows = [list(r.values()) for r in records[:max_rows]]
        return {"columns": columns, "rows": rows, "row_count": len(rows), "truncated": truncated}

    async def op_create_database(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        name = params.identifier("name")
        params.finish()
        created = await self.ensure_database(conn, name)
        return {"database": name, "created": created}

    async def op_drop_database(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        name = params.identifier("name")
        params.finish()
        dropped = await self.drop_database_if_exists(conn, name)
        return {"database": name, "dropped": dropped}

    async def op_create_service_database(
        self, conn: ServiceConnection, params: Params
    ) -> dict[str, Any]:
        db_name = params.identifier("db_name")
        password = params.required_string("password", max_length=1000)
        params.finish()
        return await self.create_service_database(conn, db_name, password)


def _status_result(status: str) -> dict[str, Any]:
    last = status.rsplit(" ", 1)[-1] if status else ""
    return {
        "columns": [],
        "rows": [],
        "row_count": int(last) if last.isdigit() else 0,
        "truncated": False,
        "status": status,
    }
