"""How a role's password reaches PostgreSQL: as a SCRAM verifier computed here, or a quoted literal.

`CREATE ROLE ... PASSWORD` is a utility statement, so the server cannot take the password as a
bind parameter; it has to be spelled into the SQL text. Two consequences are handled here:

* Injection: the text is built with `quote_pg_literal`, which uses the `E'...'` form so that
  quotes and backslashes are escaped the same way whatever `standard_conforming_strings` says.
* Exposure: SQL text can land in the server log (`log_statement = ddl`) and in
  `pg_stat_activity`. So, like psql's `\\password`, we send a SCRAM-SHA-256 verifier instead of
  the password: the server stores it as-is and the clear password never leaves this process.

The verifier needs the SASLprep-normalised password. For pure-ASCII passwords (all generated
ones) SASLprep is the identity, exactly as in PostgreSQL's own `pg_saslprep`; for other
passwords we let the server normalise it, sending the escaped literal, rather than risk a
verifier that differs from the server's by one Unicode table version and locks the user out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from providers.service_templates.errors import InvalidOperationParams

SCRAM_ITERATIONS = 4096  # PostgreSQL's default (`scram_iterations`)
SCRAM_SALT_BYTES = 16  # PostgreSQL's SCRAM_DEFAULT_SALT_LEN


def quote_pg_literal(value: str) -> str:
    """A PostgreSQL string literal for `value`, safe in any `standard_conforming_strings` mode."""
    if "\x00" in value:
        raise InvalidOperationParams("value must not contain NUL characters", field="password")
    escaped = value.replace("\\", "\\\\").replace("'", "''")
    return f"E'{escaped}'"


def scram_sha256_verifier(
    password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS
) -> str:
    """`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, as stored in pg_authid."""
    salt = os.urandom(SCRAM_SALT_BYTES) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def password_sql(password: str, server_major_version: int) -> str:
    """The SQL literal to put after `PASSWORD` for this password on this server."""
    if not isinstance(password, str) or not password:
        raise InvalidOperationParams("password must be a non-empty string", field="password")
    if "\x00" in password:
        raise InvalidOperationParams("password must not contain NUL characters", field="password")
    # SCRAM verifiers are understood from PostgreSQL 10 on.
    if password.isascii() and server_major_version >= 10:
        return quote_pg_literal(scram_sha256_verifier(password))
    return quote_pg_literal(password)


def verify_scram_password(password: str, verifier: str) -> bool:
    """True if `verifier` (from pg_authid.rolpassword) was derived from `password`."""
    try:
        method, rest = verifier.split("$", 1)
        iter_salt, keys = rest.split("$", 1)
        iterations, salt_b64 = iter_salt.split(":", 1)
        stored_b64, _server_b64 = keys.split(":", 1)
    except ValueError:
        return False
    if method != "SCRAM-SHA-256":
        return False
    expected = scram_sha256_verifier(
        password, salt=base64.b64decode(salt_b64), iterations=int(iterations)
    )
    return hmac.compare_digest(expected.split("$")[2].split(":")[0], stored_b64)
