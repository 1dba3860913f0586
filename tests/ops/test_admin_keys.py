"""The last admin key cannot be revoked, and `make admin-key` mints a new one (issue 7, #19)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from providers.tls import client_context
from tests.helpers.platform import ADMIN_KEY, ROOT, ApiServer, make_settings


def _admin_ids(keys: list[dict]) -> list[str]:
    return [k["id"] for k in keys if k["active"] and "admin" in k["scopes"]]


async def test_last_admin_key_cannot_be_revoked(
    tmp_path: Path, temporal_address: str, localcloud
) -> None:
    settings = make_settings(tmp_path, temporal_address, localcloud.url)
    with ApiServer(settings) as server:
        async with httpx.AsyncClient(
            verify=client_context(),
            base_url=server.url,
            headers={"X-API-Key": ADMIN_KEY},
            timeout=30,
        ) as api:
            keys = (await api.get("/api/v1/api-keys")).json()
            (only,) = _admin_ids(keys)
            refused = await api.delete(f"/api/v1/api-keys/{only}")
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "last_admin_key"
            assert (await api.get("/api/v1/api-keys")).status_code == 200  # still works

            reader = await api.post("/api/v1/api-keys", json={"name": "r", "scopes": ["read"]})
            assert (await api.delete(f"/api/v1/api-keys/{reader.json()['id']}")).status_code == 204

            second = await api.post(
                "/api/v1/api-keys", json={"name": "second admin", "scopes": ["admin"]}
            )
            assert second.status_code == 201, second.text
            assert (await api.delete(f"/api/v1/api-keys/{only}")).status_code == 204
            new = {"X-API-Key": second.json()["key"]}
            last = await api.delete(f"/api/v1/api-keys/{second.json()['id']}", headers=new)
            assert last.status_code == 409


async def test_make_admin_key_mints_a_working_key(
    tmp_path: Path, temporal_address: str, localcloud
) -> None:
    settings = make_settings(tmp_path, temporal_address, localcloud.url, admin_api_key=None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNESKILLS_")}
    env["CONNESKILLS_DATA_DIR"] = str(tmp_path)
    env["CONNESKILLS_DATABASE_URL"] = settings.resolved_database_url
    run = subprocess.run(
        [sys.executable, "-m", "store.admin_key"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    key = run.stdout.strip()
    assert key.startswith("csk_") and len(run.stdout.splitlines()) == 1
    saved = tmp_path / "admin_api_key"
    assert saved.read_text().strip() == key
    assert saved.stat().st_mode & 0o777 == 0o600
    with ApiServer(settings) as server:
        async with httpx.AsyncClient(
            verify=client_context(), base_url=server.url, timeout=30
        ) as api:
            listed = await api.get("/api/v1/api-keys", headers={"X-API-Key": key})
            assert listed.status_code == 200, listed.text
            assert len(_admin_ids(listed.json())) == 1  # the API registered the same file key


def test_make_admin_key_target_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "admin-key:" in makefile and "store.admin_key" in makefile
