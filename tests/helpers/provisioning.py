"""Requests the provisioning tests make over and over."""

from __future__ import annotations

IMAGE = "us-docker.pkg.dev/cloudrun/container/hello:latest"


async def deploy(api, name: str, **fields) -> dict:
    body = {"service_name": name, "image": IMAGE, **fields}
    response = await api.post("/api/v1/services/deploy", json=body)
    assert response.status_code == 202, response.text
    return response.json()
