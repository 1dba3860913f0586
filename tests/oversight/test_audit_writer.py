"""The audit trail's mechanism on its own: routes refine a row through `request.state`, and rows
the database cannot take are spilled to disk at shutdown and imported at the next start."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI, Request

from api.audit_trail import AuditTrail
from api.audit_writer import AuditWriter
from api.auth import Principal
from api.deps import PlatformState
from store.db import Database
from store.models import utcnow
from store.oversight.models import AuditEvent


async def test_a_routes_audit_resource_and_comment_win_over_the_derived_ones(db, tmp_path):
    writer = AuditWriter(db, tmp_path, queue_size=10)
    await writer.start()
    app = FastAPI()
    app.add_middleware(AuditTrail)
    key_id = uuid.uuid4()

    @app.post("/api/v1/things/{name}/retry")
    async def retry(name: str, request: Request) -> dict:
        request.state.principal = Principal(key_id=key_id, name="ops", scopes=frozenset())
        request.state.audit_resource = f"thing:{name}"
        request.state.audit_comment = "fixed the quota, retrying"
        return {"ok": True}

    app.state.platform = PlatformState(settings=None, db=db, temporal=None, jobs=None, audit=writer)
    request_id = f"req-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        answer = await http.post(
            "/api/v1/things/a1/retry",
            headers={"X-Request-ID": request_id, "X-Audit-Reason": "header loses"},
        )
    assert answer.status_code == 200 and answer.headers["x-request-id"] == request_id
    await writer.flushed()
    await writer.stop()
    async with db.transaction() as session:
        row = (
            await session.execute(
                AuditEvent.__table__.select().where(AuditEvent.request_id == request_id)
            )
        ).one()
    assert row.resource == "thing:a1" and row.comment == "fixed the quota, retrying"
    assert row.actor_key_id == key_id and row.actor_name == "ops" and row.status_code == 200


async def test_rows_the_database_refuses_are_spilled_at_shutdown_and_imported_at_start(
    db, tmp_path
):
    unreachable = Database("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    writer = AuditWriter(unreachable, tmp_path, queue_size=10)
    await writer.start()
    row_id = uuid.uuid4()
    await writer.record(
        {
            "id": row_id,
            "occurred_at": utcnow(),
            "actor_key_id": uuid.uuid4(),
            "actor_name": "admin",
            "request_id": "spilled",
            "method": "DELETE",
            "path": "/api/v1/api-keys/x",
            "resource": "api-keys/x",
            "comment": None,
            "status_code": 204,
            "job_id": None,
        }
    )
    await writer.stop(wait_seconds=0.5)
    await unreachable.dispose()
    spills = list(tmp_path.glob("audit-spill-*.jsonl"))
    assert len(spills) == 1 and str(row_id) in spills[0].read_text()

    again = AuditWriter(db, tmp_path, queue_size=10)
    await again.start()
    await again.stop()
    assert list(tmp_path.glob("audit-spill-*")) == [] and list(tmp_path.glob("*.importing-*")) == []
    async with db.transaction() as session:
        imported = await session.get(AuditEvent, row_id)
    assert imported is not None and imported.request_id == "spilled"
    assert imported.occurred_at.replace(tzinfo=UTC) <= datetime.now(UTC)
