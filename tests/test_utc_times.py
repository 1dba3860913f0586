"""Every time in a response is UTC with `Z`, also those SQLite hands back without a timezone."""

from __future__ import annotations

import asyncio
import re
import uuid

from providers.google.secret_manager import SecretStore
from tests.helpers.platform import POSTGRES_URL

UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def assert_utc(*values) -> None:
    for value in values:
        assert isinstance(value, str) and UTC_Z.match(value), value


async def test_api_keys_secret_audit_and_registry_times_end_in_z(api, settings):
    created = await api.post("/api/v1/api-keys", json={"name": "utc", "scopes": ["read"]})
    assert_utc(created.json()["created_at"])
    listed = (await api.get("/api/v1/api-keys")).json()
    assert_utc(*(k["created_at"] for k in listed))
    assert_utc(*(k["last_used_at"] for k in listed if k["last_used_at"] is not None))
    assert any(k["last_used_at"] for k in listed)

    name = f"utc-{uuid.uuid4().hex[:8]}"
    store = SecretStore(settings)
    await asyncio.to_thread(store.create, name, "value-for-utc-test", {"test": "utc"})
    try:
        assert (await api.get(f"/api/v1/secrets/{name}/value")).status_code == 200
        audit = (await api.get(f"/api/v1/secrets/{name}/audit")).json()
        assert audit and all(UTC_Z.match(row["accessed_at"]) for row in audit)
        service = await api.post(
            "/api/v1/external-services",
            json={"name": f"utc-{uuid.uuid4().hex[:8]}", "type": "postgres", "url": POSTGRES_URL},
        )
        assert service.status_code == 201, service.text
        body = service.json()
        assert_utc(body["created_at"], body["updated_at"], body["last_health_check"])
        fetched = (await api.get(f"/api/v1/external-services/{body['id']}")).json()
        assert_utc(fetched["created_at"], fetched["updated_at"], fetched["last_health_check"])
        await api.delete(f"/api/v1/external-services/{body['id']}")
    finally:
        await asyncio.to_thread(store.delete, name)
