"""CreateServiceDatabase end to end: API → saga on a real worker → the real PostgreSQL and Secret
Manager in the local cloud. Every flow also checks that no password leaks into history, results or logs."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from contracts.provisioning.names import ServiceDatabaseSteps
from contracts.task_queues import on_platform_queues
from providers.google.secret_manager import SecretStore
from store.provisioning import secret_audit
from store.provisioning.models import Customer, ExternalService
from tests.helpers.history import decoded_history_text
from tests.helpers.platform import (
    POSTGRES_URL,
    own_platform,
    wait_for_job,
    wait_for_pending_activity,
)

ADMIN_PASSWORD = "pg-admin-Secret-7c1f"
GIVEN_PASSWORD = "Given-Passw0rd-for-the-job"


@pytest.fixture
async def pg_service(db, settings):
    """A registered postgres external service whose admin password lives in Secret Manager."""
    store = SecretStore(settings)
    secret = f"pg-admin-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(store.create, secret, ADMIN_PASSWORD, {"scope": "global"})
    async with db.transaction() as session:
        row = ExternalService(
            name=f"pg-{uuid.uuid4().hex[:8]}",
            type="postgres",
            url=POSTGRES_URL,
            secret_refs={"password": secret},
        )
        session.add(row)
    yield row
    await asyncio.to_thread(store.delete, secret)


async def admin_connection() -> asyncpg.Connection:
    return await asyncpg.connect(POSTGRES_URL)


async def database_and_role_exist(name: str) -> tuple[bool, bool]:
    pg = await admin_connection()
    try:
        db = await pg.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        role = await pg.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
        return bool(db), bool(role)
    finally:
        await pg.close()


async def drop_everything(name: str) -> None:
    pg = await admin_connection()
    try:
        await pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await pg.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await pg.close()


def names() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return f"svcdb_{suffix}", f"svc-{suffix}"


async def staged_copies(settings) -> set[str]:
    """Every staging copy of a given password in Secret Manager, whichever job it was named after."""
    listed = await asyncio.to_thread(SecretStore(settings).list, {"purpose": "job-input"})
    return {secret.name for secret in listed}


async def start(api, service_id, **body) -> str:
    response = await api.post(
        f"/api/v1/external-services/{service_id}/create_service_database", json=body
    )
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


async def assert_no_leak(api, client, job_id: str, *values: str, capfd=None) -> None:
    text = await decoded_history_text(client, job_id)
    job = (await api.get(f"/api/v1/jobs/{job_id}")).text
    logs = (await api.get(f"/api/v1/jobs/{job_id}/logs", params={"lines": 10000})).text
    captured = capfd.readouterr() if capfd else None
    for value in values:
        assert value not in text, "secret value in workflow history"
        assert value not in job and value not in logs, "secret value in the job API"
        if captured:
            assert value not in captured.out + captured.err, "secret value in process logs"


async def test_a_core_service_database_is_created_and_usable_with_its_stored_credentials(
    api, client, db, settings, pg_service, capfd
):
    db_name, service = names()
    try:
        job_id = await start(api, pg_service.id, db_name=db_name, service_name=service)
        job = await wait_for_job(api, job_id)
        assert job["status"] == "completed", job
        assert job["result"] == {
            "database": db_name,
            "username": db_name,
            "service_name": service,
            "scope": "GLOBAL",
            "customer_prefix": None,
            "password_secret": f"{service}-password",
            "connection_string_secret": f"{service}-connection-string",
        }
        store = SecretStore(settings)
        password = await asyncio.to_thread(store.access, f"{service}-password")
        dsn = await asyncio.to_thread(store.access, f"{service}-connection-string")
        assert dsn.startswith(f"postgresql://{db_name}:") and dsn.endswith(f"/{db_name}")
        assert len(password) == 24

        own = await asyncpg.connect(dsn)
        try:
            await own.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text)")
            await own.execute("INSERT INTO notes (body) VALUES ('hello')")
            assert await own.fetchval("SELECT current_user") == db_name
        finally:
            await own.close()
        await assert_no_leak(api, client, job_id, password, dsn, ADMIN_PASSWORD, capfd=capfd)
        # The job read the service's admin password on the caller's behalf: audited.
        async with db.transaction() as session:
            rows = await secret_audit.for_secret(session, pg_service.secret_refs["password"])
        assert [(r.action, r.detail) for r in rows] == [
            (
                secret_audit.REFERENCED_BY_EXTERNAL_SERVICE,
                f"ok; external_service={pg_service.name}; "
                f"purpose=create_service_database; job={job_id}",
            )
        ]
    finally:
        await drop_everything(db_name)
        for name in (f"{service}-password", f"{service}-connection-string"):
            await asyncio.to_thread(SecretStore(settings).delete, name)


async def test_a_customer_database_uses_the_given_password_and_customer_secret_names(
    api, client, db, settings, pg_service, capfd
):
    db_name, service = names()
    prefix = f"cu{uuid.uuid4().hex[:6]}"
    async with db.transaction() as session:
        customer = Customer(prefix=prefix, name="Customer")
        session.add(customer)
    given = "Given-Passw0rd-'quote\"-and-more"
    store = SecretStore(settings)
    staged_before = await staged_copies(settings)
    try:
        job_id = await start(
            api,
            pg_service.id,
            db_name=db_name,
            service_name=service,
            customer_id=str(customer.id),
            password=given,
        )
        job = await wait_for_job(api, job_id)
        assert job["status"] == "completed", job
        assert job["result"]["scope"] == "CUSTOMER"
        assert job["result"]["password_secret"] == f"{prefix}-{service}-password"
        assert await asyncio.to_thread(store.access, f"{prefix}-{service}-password") == given
        labels = (await asyncio.to_thread(store.get, f"{prefix}-{service}-password")).labels
        assert labels["scope"] == "customer" and labels["customer"] == prefix
        # The staging copy of the given password is gone once the job has ended (no
        # Idempotency-Key: the copy must be named after the job that ran, or nothing deletes it).
        assert await asyncio.to_thread(store.get, f"{job_id}-given-password") is None
        assert await staged_copies(settings) == staged_before
        dsn = await asyncio.to_thread(store.access, f"{prefix}-{service}-connection-string")
        own = await asyncpg.connect(dsn)
        await own.close()
        await assert_no_leak(api, client, job_id, given, dsn, capfd=capfd)
    finally:
        await drop_everything(db_name)
        for name in (f"{prefix}-{service}-password", f"{prefix}-{service}-connection-string"):
            await asyncio.to_thread(store.delete, name)


async def test_cancel_after_the_database_step_removes_what_the_job_created(
    api, client, settings, pg_service, localcloud
):
    db_name, service = names()
    delay = localcloud.inject_fault(
        fail_next=1,
        code=0,
        latency_ms=6000,
        method="POST",
        path_contains=f"{service}-connection-string",
    )
    staged_before = await staged_copies(settings)
    try:
        job_id = await start(
            api, pg_service.id, db_name=db_name, service_name=service, password=GIVEN_PASSWORD
        )
        await wait_for_pending_activity(
            client, job_id, ServiceDatabaseSteps.STORE_CONNECTION_STRING
        )
        assert await database_and_role_exist(db_name) == (True, True)
        assert f"{job_id}-given-password" in await staged_copies(settings)
        assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 202
        job = await wait_for_job(api, job_id, seconds=60)
        # Read before the cleanup below, which would drop them whatever the job did.
        left_behind = await database_and_role_exist(db_name)
    finally:
        localcloud.clear_faults()
        await drop_everything(db_name)
    assert job["status"] == "cancelled", job
    assert localcloud.fired(delay) == 1
    assert left_behind == (False, False), "the compensation left the database or its role"
    assert await staged_copies(settings) == staged_before
    store = SecretStore(settings)
    for name in (f"{service}-password", f"{service}-connection-string"):
        assert await asyncio.to_thread(store.get, name) is None, name


async def test_a_refused_secret_write_fails_the_job_and_compensates(
    api, settings, pg_service, localcloud
):
    db_name, service = names()
    refusal = localcloud.inject_fault(
        fail_next=1, code=403, method="POST", path_contains=f"{service}-connection-string"
    )
    staged_before = await staged_copies(settings)
    try:
        job_id = await start(
            api, pg_service.id, db_name=db_name, service_name=service, password=GIVEN_PASSWORD
        )
        job = await wait_for_job(api, job_id, seconds=60)
        # Read before the cleanup below, which would drop them whatever the job did.
        left_behind = await database_and_role_exist(db_name)
    finally:
        localcloud.clear_faults()
        await drop_everything(db_name)
    assert job["status"] == "failed", job
    assert localcloud.fired(refusal) == 1
    assert left_behind == (False, False), "the compensation left the database or its role"
    assert await staged_copies(settings) == staged_before
    assert f"writing secret {service}-connection-string" in job["error"]
    assert await asyncio.to_thread(SecretStore(settings).get, f"{service}-password") is None


async def test_a_transient_secret_failure_is_retried_and_the_job_completes(
    api, settings, pg_service, localcloud
):
    db_name, service = names()
    outage = localcloud.inject_fault(
        fail_next=2, code=503, method="POST", path_contains=f"{service}-password"
    )
    try:
        job = await wait_for_job(
            api, await start(api, pg_service.id, db_name=db_name, service_name=service), seconds=60
        )
        assert job["status"] == "completed", job
        assert localcloud.fired(outage) == 2
    finally:
        localcloud.clear_faults()
        await drop_everything(db_name)
        for name in (f"{service}-password", f"{service}-connection-string"):
            await asyncio.to_thread(SecretStore(settings).delete, name)


async def test_an_existing_database_is_refused_and_left_untouched(api, pg_service):
    db_name, service = names()
    pg = await admin_connection()
    await pg.execute(f'CREATE DATABASE "{db_name}"')
    await pg.close()
    try:
        job = await wait_for_job(
            api, await start(api, pg_service.id, db_name=db_name, service_name=service)
        )
        assert job["status"] == "failed"
        assert f"database {db_name} already exists" in job["error"]
        assert (await database_and_role_exist(db_name))[0] is True
    finally:
        await drop_everything(db_name)


@pytest.mark.parametrize(
    "body",
    [
        {"db_name": 'bad"name', "service_name": "svc"},
        {"db_name": "x; drop table users", "service_name": "svc"},
        {"db_name": "has space", "service_name": "svc"},
        {"db_name": "UPPER", "service_name": "svc"},
        {"db_name": "ok_name", "service_name": "Bad Service"},
        {"db_name": "ok_name", "service_name": "svc", "customer_id": "not-a-uuid"},
        {"db_name": "ok_name", "service_name": "svc", "password": "short"},
        {"db_name": "ok_name"},
    ],
)
async def test_bad_service_database_requests_answer_400_and_create_nothing(
    api, client, settings, pg_service, body
):
    before = (await client.count_workflows(on_platform_queues(settings.task_queue))).count
    response = await api.post(
        f"/api/v1/external-services/{pg_service.id}/create_service_database", json=body
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert "short" not in response.text or body.get("password") != "short"
    assert (await client.count_workflows(on_platform_queues(settings.task_queue))).count == before


async def test_unknown_ids_answer_400_or_404(api, pg_service):
    body = {"db_name": "ok_name", "service_name": "svc"}
    malformed = await api.post(
        "/api/v1/external-services/not-a-uuid/create_service_database", json=body
    )
    assert malformed.status_code == 400
    missing = await api.post(
        f"/api/v1/external-services/{uuid.uuid4()}/create_service_database", json=body
    )
    assert missing.status_code == 404
    unknown_customer = await api.post(
        f"/api/v1/external-services/{pg_service.id}/create_service_database",
        json={**body, "customer_id": str(uuid.uuid4())},
    )
    assert unknown_customer.status_code == 400


async def test_a_worker_killed_mid_saga_is_replaced_and_nothing_is_duplicated(
    client, settings, data_dir, localcloud, pg_service
):
    db_name, service = names()
    store = SecretStore(settings)
    localcloud.inject_fault(
        fail_next=1,
        code=0,
        latency_ms=4000,
        method="POST",
        path_contains=f"{service}-connection-string",
    )
    try:
        async with own_platform(data_dir, settings.temporal_address, localcloud.url) as own:
            job_id = await start(own.api, pg_service.id, db_name=db_name, service_name=service)
            await wait_for_pending_activity(
                client, job_id, ServiceDatabaseSteps.STORE_CONNECTION_STRING
            )
            # Kill between creating the secret and adding its (delayed) value.
            while await asyncio.to_thread(store.get, f"{service}-connection-string") is None:
                await asyncio.sleep(0.05)
            own.kill_worker()
            own.restart_worker()
            job = await wait_for_job(own.api, job_id, seconds=90)
        assert job["status"] == "completed", job
        listed = await asyncio.to_thread(store.list, {"service": service})
        assert sorted(s.name for s in listed) == [
            f"{service}-connection-string",
            f"{service}-password",
        ]
        dsn = await asyncio.to_thread(store.access, f"{service}-connection-string")
        own_connection = await asyncpg.connect(dsn)
        await own_connection.close()
    finally:
        localcloud.clear_faults()
        await drop_everything(db_name)
        for name in (f"{service}-password", f"{service}-connection-string"):
            await asyncio.to_thread(store.delete, name)
