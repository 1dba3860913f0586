"""External services, security: referencing a secret needs the secrets scope and is audited, URLs
with a credential (however encoded) or a scheme foreign to the type are refused, and reading details
records nothing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from sqlalchemy import select

from store.provisioning import secret_audit
from store.provisioning.models import ExternalService
from tests.helpers.external_services import (
    BASE,
    assert_not_registered,
    create,
    key_with,
    operation,
    postgres_service,
    unique,
)
from tests.helpers.platform import POSTGRES_URL, REDIS_URL

REFERENCED = secret_audit.REFERENCED_BY_EXTERNAL_SERVICE


class Listener:
    """A TCP server of the caller's that records every byte sent to it: where a secret would go."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Listener:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(TimeoutError):
                self.received += await asyncio.wait_for(reader.read(4096), 2)
            writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    async def __aexit__(self, *_exc) -> None:
        self.server.close()
        await self.server.wait_closed()


async def audit_rows(db, name: str):
    async with db.transaction() as session:
        return await secret_audit.for_secret(session, name)


async def stored(db, service_id: str) -> ExternalService:
    async with db.transaction() as session:
        return await session.scalar(
            select(ExternalService).where(ExternalService.id == uuid.UUID(service_id))
        )


# --- referencing a secret is reading it -----------------------------------------------------------


async def test_a_write_key_cannot_send_a_secret_to_its_own_listener(http, secrets, api_server, db):
    secret, value = await secrets.password()
    writer = await key_with(http, api_server, "write")
    async with writer, Listener() as listener:
        name = unique("steal")
        for service_type, url in (
            ("redis", f"redis://127.0.0.1:{listener.port}/0"),
            ("openai", f"http://127.0.0.1:{listener.port}"),
        ):
            refs = {"password": secret} if service_type == "redis" else {"api_key": secret}
            response = await writer.post(
                BASE, json={"name": name, "type": service_type, "url": url, "secret_refs": refs}
            )
            assert response.status_code == 403, response.text
            error = response.json()["error"]
            assert error["code"] == "forbidden"
            assert error["details"] == {"scope": "secrets", "secrets": [secret]}
        await asyncio.sleep(0.2)
        assert value.encode() not in listener.received and not listener.received
    await assert_not_registered(http, name)
    rows = await audit_rows(db, secret)
    assert [(r.action, r.detail.split(";")[0]) for r in rows] == [(REFERENCED, "denied")] * 2
    assert all(f"external_service={name}" in r.detail for r in rows)
    assert all(r.api_key_name == "es-test" for r in rows)


async def test_a_secrets_key_may_reference_and_every_read_is_audited(http, secrets, api_server, db):
    secret, _ = await secrets.password()
    key = await key_with(http, api_server, "write", "secrets")
    async with key:
        response = await key.post(
            BASE,
            json={
                "name": unique("pg"),
                "type": "postgres",
                "url": POSTGRES_URL,
                "secret_refs": {"password": secret},
            },
        )
        assert response.status_code == 201, response.text
        service = response.json()
    assert service["health_status"] == "healthy"
    rows = await audit_rows(db, secret)
    assert len(rows) == 1 and rows[0].action == REFERENCED
    assert rows[0].detail == f"ok; external_service={service['name']}; purpose=create"

    # Checks and operations on the registered service: a write key may run them, each audited.
    writer = await key_with(http, api_server, "write")
    reader = await key_with(http, api_server, "read")
    async with writer, reader:
        assert (await writer.post(f"{BASE}/{service['id']}/health")).status_code == 200
        assert (await operation(writer, service["id"], "list_databases")).status_code == 200
        assert (await reader.get(f"{BASE}/{service['id']}/details")).status_code == 200
    details = [r.detail for r in await audit_rows(db, secret)]
    for purpose in ("health_check", "operation:list_databases", "details"):
        assert f"ok; external_service={service['name']}; purpose={purpose}" in details


async def test_a_write_key_cannot_redirect_or_replace_the_refs_of_a_service(
    http, secrets, api_server, db
):
    service = await postgres_service(http, secrets)
    other, _ = await secrets.password()
    before = (await http.get(f"{BASE}/{service['id']}")).json()
    writer = await key_with(http, api_server, "write")
    async with writer, Listener() as listener:
        moved = await writer.put(
            f"{BASE}/{service['id']}",
            json={"url": f"postgresql://postgres@127.0.0.1:{listener.port}/postgres"},
        )
        assert moved.status_code == 403, moved.text
        assert moved.json()["error"]["details"]["scope"] == "secrets"
        replaced = await writer.put(
            f"{BASE}/{service['id']}", json={"secret_refs": {"password": other}}
        )
        assert replaced.status_code == 403
        assert not listener.received
        assert (await http.get(f"{BASE}/{service['id']}")).json() == before
        # What does not decide where secrets go stays a write-scope change.
        fine = await writer.put(
            f"{BASE}/{service['id']}", json={"cloud_console": "https://console.example.com/x"}
        )
        assert fine.status_code == 200, fine.text
    assert [r.detail.split(";")[0] for r in await audit_rows(db, other)] == ["denied"]


# --- GET details records nothing ------------------------------------------------------------------


async def test_reading_details_does_not_record_health(http, secrets, api_server, db):
    service = await postgres_service(http, secrets)
    row = await stored(db, service["id"])
    async with db.transaction() as session:
        # A recorded state the live check would contradict.
        found = await session.get(ExternalService, row.id)
        found.health_status = "unhealthy"
    before = await stored(db, service["id"])
    reader = await key_with(http, api_server, "read")
    async with reader:
        response = await reader.get(f"{BASE}/{service['id']}/details")
    assert response.status_code == 200, response.text
    details = response.json()
    assert details["health_status"] == "healthy"
    assert details["health_checked_at"] > service["last_health_check"]
    assert details["last_health_check"] == service["last_health_check"]
    after = await stored(db, service["id"])
    assert (after.health_status, after.last_health_check, after.updated_at) == (
        "unhealthy",
        before.last_health_check,
        before.updated_at,
    )


# --- URLs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example.com/v1?%70assword=hunter2hunter2",
        "https://api.example.com/v1?%2570assword=hunter2hunter2",
        "https://api.example.com/v1?key=hunter2hunter2",
        "https://api.example.com/v1?access_token=hunter2hunter2",
        "https://api.example.com/v1?ACCESS%5FTOKEN=hunter2hunter2",
        "https://api.example.com/v1?x=1&X-Api-Key=hunter2hunter2",
        "https://api.example.com/v1?X-Amz-Signature=hunter2hunter2",
        "https://api.example.com/v1?client_secret=hunter2hunter2",
        "https://api.example.com/v1?sig=hunter2hunter2",
        "https://api.example.com/v1?auth=hunter2hunter2",
        "https://api.example.com/v1?pwd=hunter2hunter2",
        "https://api.example.com/v1?refresh_token=hunter2hunter2",
        "https://api.example.com/v1#access_token=hunter2hunter2",
        "https://api.example.com/v1;password=hunter2hunter2",
        "https://user%3Ahunter2hunter2@api.example.com/v1",
        "https://user:hunter2hunter2@api.example.com/v1",
    ],
)
async def test_a_url_carrying_a_credential_is_refused_however_encoded(http, url):
    name = unique("cred")
    for body in (
        {"name": name, "type": "openai", "url": url},
        {"name": name, "type": "openai", "cloud_console": url},
    ):
        response = await http.post(BASE, json=body)
        assert response.status_code == 400, (url, response.text)
        fields = {f["field"] for f in response.json()["error"]["details"]["fields"]}
        assert fields == {"url"} if "url" in body else {"cloud_console"}
        assert "hunter2hunter2" not in response.text
    await assert_not_registered(http, name)


@pytest.mark.parametrize(
    ("service_type", "url"),
    [
        ("postgres", "file:///etc/passwd"),
        ("postgres", "redis://127.0.0.1:6379/0"),
        ("postgres", "http://127.0.0.1:5432/"),
        ("mysql", "postgresql://127.0.0.1:3306/test"),
        ("redis", "postgresql://127.0.0.1:6379"),
        ("redis", "http://127.0.0.1:6379"),
        ("mongodb", "redis://127.0.0.1:27017"),
        ("openai", "ftp://api.example.com"),
        ("neo4j", "bolt://127.0.0.1:7687"),
        ("supabase", "gopher://example.com"),
    ],
)
async def test_a_url_scheme_foreign_to_the_type_is_refused(http, service_type, url):
    name = unique("scheme")
    response = await http.post(BASE, json={"name": name, "type": service_type, "url": url})
    assert response.status_code == 400, response.text
    fields = {f["field"]: f["message"] for f in response.json()["error"]["details"]["fields"]}
    assert set(fields) == {"url"} and service_type in fields["url"]
    await assert_not_registered(http, name)


async def test_the_schemes_of_each_type_and_driver_variants_are_accepted(http, secrets):
    for service_type, url in (
        ("postgres", POSTGRES_URL.replace("postgresql://", "postgresql+asyncpg://")),
        ("postgres", POSTGRES_URL.replace("postgresql://", "postgres://") + "?sslkey=/k.pem"),
        ("mysql", "mysql+aiomysql://root@127.0.0.1:3306/test"),
        ("mysql", "mariadb://root@127.0.0.1:3306/test"),
        ("redis", REDIS_URL),
        ("redis", "rediss://127.0.0.1:6380/0"),
        ("mongodb", "mongodb+srv://cluster.example.com/db"),
        ("qdrant", "https://qdrant.example.com:6333"),
    ):
        await create(http, name=unique("ok"), type=service_type, url=url)


async def test_an_update_to_a_foreign_scheme_is_refused(http, secrets):
    service = await postgres_service(http, secrets)
    before = (await http.get(f"{BASE}/{service['id']}")).json()
    for url in ("file:///etc/passwd", "redis://127.0.0.1:6379/0", "javascript://x/%0aalert(1)"):
        response = await http.put(f"{BASE}/{service['id']}", json={"url": url})
        assert response.status_code == 400, (url, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert [f["field"] for f in error["details"]["fields"]] == ["url"]
    assert (await http.get(f"{BASE}/{service['id']}")).json() == before
