"""The ingest's per-process cache of the account and its fields (store/crm/cache.py): this
process's admin writes are seen at once, other processes' within the TTL, and a field the cache
does not know yet is still created once."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text

from store.crm import cache

PAYLOAD = {"nombre": "Juan Perez", "email": "juan@example.com"}


async def _ingest(crm, key: str, payload=PAYLOAD):
    return await crm.http.post(f"/api/v1/ingest/{key}", json=payload)


async def _sql(crm, statement: str, **params) -> None:
    """A write that bypasses the platform's store, as another process would make it."""
    async with crm.db.engine.begin() as conn:
        await conn.execute(text(statement), params)


def _id(crm, value: str | uuid.UUID):
    # SQLAlchemy's Uuid stores 32 hex digits on SQLite and a native uuid on PostgreSQL.
    value = uuid.UUID(str(value))
    return value if crm.db.engine.dialect.name == "postgresql" else value.hex


async def test_admin_writes_in_this_process_apply_to_the_next_ingest(crm):
    account_id, key = await crm.account()
    assert (await _ingest(crm, key)).status_code == 200  # account and fields now cached
    await crm.http.post(
        f"/api/v1/admin/accounts/{account_id}/fields",
        json={"nombre_campo": "dni", "tipo_dato": "string", "es_requerido": True},
    )
    missing = await _ingest(crm, key)
    assert missing.status_code == 400 and missing.json()["error"]["details"]["missing"] == ["dni"]
    field = next(
        f
        for f in (await crm.http.get(f"/api/v1/admin/accounts/{account_id}/fields")).json()["items"]
        if f["nombre_campo"] == "dni"
    )
    await crm.http.put(f"/api/v1/admin/fields/{field['id']}", json={"es_requerido": False})
    assert (await _ingest(crm, key)).status_code == 200
    rotated = (await crm.http.post(f"/api/v1/admin/accounts/{account_id}/rotate-key")).json()
    assert (await _ingest(crm, key)).status_code == 404
    new_key = rotated["api_key"]
    assert (await _ingest(crm, new_key)).status_code == 200
    await crm.http.delete(f"/api/v1/admin/accounts/{account_id}")
    assert (await _ingest(crm, new_key)).status_code == 404


async def test_an_account_deactivated_elsewhere_stops_ingesting_within_the_ttl(crm, monkeypatch):
    monkeypatch.setattr(cache, "TTL_SECONDS", 0.3)
    account_id, key = await crm.account()
    assert (await _ingest(crm, key)).status_code == 200
    await _sql(crm, "UPDATE crm_cuentas SET activo = false WHERE id = :id", id=_id(crm, account_id))
    await asyncio.sleep(0.35)
    response = await _ingest(crm, key)
    assert response.status_code == 404
    assert (await crm.counts())["crm_records"] == 1


async def test_a_field_created_elsewhere_while_cached_is_not_created_twice(crm):
    account_id, key = await crm.account()
    assert (await _ingest(crm, key)).status_code == 200  # fields cached without "dni"
    await _sql(
        crm,
        "INSERT INTO crm_campos (id, cuenta_id, nombre_campo, tipo_dato, es_requerido, created_at)"
        " VALUES (:id, :cuenta, 'dni', 'string', false, CURRENT_TIMESTAMP)",
        id=_id(crm, uuid.uuid4()),
        cuenta=_id(crm, account_id),
    )
    response = await _ingest(crm, key, {**PAYLOAD, "dni": "30111222", "ciudad": "Rosario"})
    assert response.status_code == 200, response.text
    assert response.json()["fields_created"] == ["ciudad"]
    names = [
        f["nombre_campo"]
        for f in (await crm.http.get(f"/api/v1/admin/accounts/{account_id}/fields")).json()["items"]
    ]
    assert sorted(names) == sorted([*PAYLOAD, "dni", "ciudad"])
