"""Referencing a secret is reading it: naming secrets in an external service's `secret_refs` or a
deployment's `secrets` makes the platform (or Cloud Run) use their values on the caller's behalf.

So the caller who names them needs the `secrets` scope, like `GET /secrets/{name}/value`, and every
use is audited in `secret_access_audit` with who, which secret, what for and the outcome. A key
without the scope gets 403 (audited as `denied`) before anything is read, stored or started.

Checks and operations on an external service that is already registered (health, details,
operations, create_service_database) only need the scope their endpoint asks for: its refs and its
URL were accepted from a key with the `secrets` scope, so they send the values nowhere new; they are
audited all the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from api.auth import Principal
from api.errors import ApiError
from store.db import Database
from store.provisioning import secret_audit

SECRETS_SCOPE = "secrets"


@dataclass(frozen=True)
class SecretUse:
    """Who makes the platform read secrets, and what for (`external_service=x; purpose=y`)."""

    db: Database
    principal: Principal
    action: str
    context: str

    def with_context(self, context: str) -> SecretUse:
        return SecretUse(self.db, self.principal, self.action, context)

    async def record(self, names: Iterable[str], outcome: str) -> None:
        names = sorted({n for n in names if isinstance(n, str) and n})
        if not names:
            return
        async with self.db.transaction() as session:
            await secret_audit.record_many(
                session,
                names,
                self.principal.key_id,
                self.principal.name,
                f"{outcome}; {self.context}",
                self.action,
            )

    async def authorize(self, names: Iterable[str]) -> None:
        """403 (audited as denied) unless the caller may reference `names`; nothing is read."""
        names = sorted(set(names))
        if not names or self.principal.has(SECRETS_SCOPE):
            return
        await self.record(names, secret_audit.DENIED)
        raise ApiError(
            403,
            f"referencing secrets needs an API key with the '{SECRETS_SCOPE}' scope",
            details={"scope": SECRETS_SCOPE, "secrets": names},
        )


def external_service_use(db: Database, principal: Principal, service: str, purpose: str):
    return SecretUse(
        db,
        principal,
        secret_audit.REFERENCED_BY_EXTERNAL_SERVICE,
        f"external_service={service}; purpose={purpose}",
    )


def deployment_use(db: Database, principal: Principal, service: str, job_id: str) -> SecretUse:
    return SecretUse(
        db,
        principal,
        secret_audit.REFERENCED_BY_DEPLOYMENT,
        f"service={service}; job={job_id}",
    )


def deployment_secret_names(secrets: dict[str, str] | None) -> list[str]:
    """The secret names of a deploy body's `secrets` (env var → `name[:version]`)."""
    return sorted({ref.partition(":")[0] for ref in (secrets or {}).values()})
