"""The CRM admin endpoints' documented contract: accounts, fields, leads, records, auth."""

from __future__ import annotations

import uuid

from tests.helpers.platform import ADMIN_KEY


async def test_account_lifecycle(crm):
    created = await crm.http.post(
        "/api/v1/admin/accounts", json={"nombre": "Mi Empresa", "auto_crear_campos": True}
    )
    assert created.status_code == 201
    account = created.json()
    assert account["api_key"].startswith("cc_") and len(account["api_key"]) == 35
    assert account["activo"] is True and account["created_at"].endswith("Z")
    got = (await crm.http.get(f"/api/v1/admin/accounts/{account['id']}")).json()
    assert got["api_key"] is None and got["api_key_prefix"] == account["api_key"][:7]
    updated = await crm.http.put(
        f"/api/v1/admin/accounts/{account['id']}", json={"nombre": "Nuevo Nombre"}
    )
    assert updated.json()["nombre"] == "Nuevo Nombre" and updated.json()["auto_crear_campos"]
    toggled = await crm.http.patch(f"/api/v1/admin/accounts/{account['id']}/toggle-auto-create")
    assert toggled.json()["auto_crear_campos"] is False
    listing = (await crm.http.get("/api/v1/admin/accounts")).json()
    assert listing["total"] == 1 and listing["page"] == 1 and listing["page_size"] == 20
    assert (await crm.http.delete(f"/api/v1/admin/accounts/{account['id']}")).status_code == 204
    assert (await crm.http.get("/api/v1/admin/accounts")).json()["total"] == 0
    assert (await crm.http.get(f"/api/v1/admin/accounts/{account['id']}")).json()["activo"] is False
    reactivated = await crm.http.put(
        f"/api/v1/admin/accounts/{account['id']}", json={"activo": True}
    )
    assert reactivated.json()["activo"] is True


async def test_rotating_the_key_retires_the_old_one(crm):
    account_id, old = await crm.account()
    rotated = await crm.http.post(f"/api/v1/admin/accounts/{account_id}/rotate-key")
    new = rotated.json()["api_key"]
    assert new.startswith("cc_") and new != old
    assert (await crm.http.post(f"/api/v1/ingest/{old}", json={"a": 1})).status_code == 404
    assert (await crm.http.post(f"/api/v1/ingest/{new}", json={"a": 1})).status_code == 200


async def test_account_pages_respect_the_documented_bounds(crm):
    for _ in range(3):
        await crm.account()
    page = (await crm.http.get("/api/v1/admin/accounts?page=2&page_size=2")).json()
    assert len(page["items"]) == 1 and page["total"] == 3
    for query in ("page=0", "page_size=0", "page_size=101", "page=x"):
        response = await crm.http.get(f"/api/v1/admin/accounts?{query}")
        assert response.status_code == 400, query


async def test_bad_account_bodies_answer_400(crm):
    for body in (
        {},
        {"nombre": ""},
        {"nombre": "x", "auto_crear_campos": 1},
        {"nombre": "x", "z": 1},
    ):
        assert (await crm.http.post("/api/v1/admin/accounts", json=body)).status_code == 400


async def test_malformed_ids_answer_400_and_unknown_ones_404(crm):
    unknown = uuid.uuid4()
    for path in (
        "accounts/{}",
        "accounts/{}/fields",
        "accounts/{}/leads",
        "accounts/{}/records",
        "leads/{}",
        "records/{}",
    ):
        assert (await crm.http.get(f"/api/v1/admin/{path.format('nope')}")).status_code == 400
        assert (await crm.http.get(f"/api/v1/admin/{path.format(unknown)}")).status_code == 404
    missing = await crm.http.get(f"/api/v1/admin/leads/{unknown}")
    assert missing.json()["error"]["message"] == "Lead not found"
    for method, path in (("PUT", "fields/{}"), ("DELETE", "fields/{}"), ("DELETE", "accounts/{}")):
        kwargs = {"json": {}} if method == "PUT" else {}
        response = await crm.http.request(method, f"/api/v1/admin/{path.format(unknown)}", **kwargs)
        assert response.status_code == 404


async def test_fields_create_conflict_update_delete(crm):
    account_id, _ = await crm.account()
    body = {"nombre_campo": "empresa", "tipo_dato": "string", "descripcion": "Nombre de la empresa"}
    created = await crm.http.post(f"/api/v1/admin/accounts/{account_id}/fields", json=body)
    assert created.status_code == 201 and created.json()["es_requerido"] is False
    again = await crm.http.post(f"/api/v1/admin/accounts/{account_id}/fields", json=body)
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "Field already exists for this account"
    bad = await crm.http.post(
        f"/api/v1/admin/accounts/{account_id}/fields",
        json={"nombre_campo": "x", "tipo_dato": "money"},
    )
    assert bad.status_code == 400
    field_id = created.json()["id"]
    updated = await crm.http.put(
        f"/api/v1/admin/fields/{field_id}", json={"tipo_dato": "email", "es_requerido": True}
    )
    assert updated.json()["tipo_dato"] == "email" and updated.json()["es_requerido"] is True
    assert updated.json()["descripcion"] == "Nombre de la empresa"
    listing = (await crm.http.get(f"/api/v1/admin/accounts/{account_id}/fields")).json()
    assert listing["total"] == 1 and listing["page_size"] == 50
    assert (
        await crm.http.get(f"/api/v1/admin/accounts/{account_id}/fields?page_size=201")
    ).status_code == 400
    assert (await crm.http.delete(f"/api/v1/admin/fields/{field_id}")).status_code == 204
    assert (await crm.http.get(f"/api/v1/admin/accounts/{account_id}/fields")).json()["total"] == 0


async def test_leads_and_records_page_newest_first(crm):
    account_id, key = await crm.account()
    ids = [(await crm.http.post(f"/api/v1/ingest/{key}", json={"n": i})).json() for i in range(5)]
    leads = (await crm.http.get(f"/api/v1/admin/accounts/{account_id}/leads?page_size=2")).json()
    assert leads["total"] == 5 and leads["page"] == 1 and leads["page_size"] == 2
    assert [lead["datos"]["n"] for lead in leads["items"]] == [4, 3]
    records = (
        await crm.http.get(f"/api/v1/admin/accounts/{account_id}/records?page=3&page_size=2")
    ).json()
    assert [r["datos"]["n"] for r in records["items"]] == [0]
    assert records["items"][0]["id"] == ids[0]["record_id"]


async def test_admin_needs_a_key_with_the_crm_scope(crm):
    no_key = await crm.http.get("/api/v1/admin/accounts", headers={"Authorization": ""})
    assert no_key.status_code == 401
    scoped = {}
    for scopes in (["read", "write"], ["crm"]):
        made = await crm.http.post("/api/v1/api-keys", json={"name": "crm", "scopes": scopes})
        assert made.status_code == 201, made.text
        scoped[scopes[0]] = made.json()["key"]
    denied = await crm.http.get(
        "/api/v1/admin/accounts", headers={"Authorization": f"Bearer {scoped['read']}"}
    )
    assert denied.status_code == 403
    allowed = await crm.http.get(
        "/api/v1/admin/accounts", headers={"Authorization": f"Bearer {scoped['crm']}"}
    )
    assert allowed.status_code == 200
    assert ADMIN_KEY  # the admin key (the fixture's) implies crm
