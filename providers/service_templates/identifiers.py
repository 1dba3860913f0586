"""Validation and quoting of SQL identifiers (database and user names) for Postgres and MySQL."""

from __future__ import annotations

import re

from providers.service_templates.errors import InvalidOperationParams

# Lowercase only: Postgres folds unquoted names to lowercase and MySQL's case sensitivity depends
# on the host filesystem, so a mixed-case name would mean different things on different servers.
# 63 characters is Postgres' NAMEDATALEN - 1 (MySQL allows 64).
IDENTIFIER_PATTERN = re.compile(r"[a-z_][a-z0-9_-]{0,62}")
IDENTIFIER_RULE = (
    "1-63 characters: lowercase letters, digits, '_' or '-', starting with a letter or '_'"
)


def validate_identifier(name: object, field: str = "name") -> str:
    """Return `name` if it is a safe database/user name, else raise InvalidOperationParams."""
    if not isinstance(name, str) or not IDENTIFIER_PATTERN.fullmatch(name):
        shown = repr(name) if isinstance(name, str) else type(name).__name__
        raise InvalidOperationParams(
            f"invalid {field} {shown:.80}: use {IDENTIFIER_RULE}", field=field
        )
    return name


def quote_pg_identifier(name: str) -> str:
    """`"name"` for Postgres, after validation (quoting also keeps hyphens and keywords legal)."""
    return '"' + validate_identifier(name).replace('"', '""') + '"'


def quote_mysql_identifier(name: str) -> str:
    """`` `name` `` for MySQL/MariaDB, after validation."""
    return "`" + validate_identifier(name).replace("`", "``") + "`"
