"""The payload codec: history is unreadable at rest, and the /codec endpoint decodes it for the UI."""

from __future__ import annotations

import base64
import json

import httpx

from providers.tls import client_context
from tests.helpers.history import _payloads
from tests.helpers.platform import ADMIN_KEY, ApiServer, make_settings, unique_name, wait_for_job
from tests.helpers.provisioning import deploy


def wire(payload) -> dict:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


async def test_history_payloads_are_encrypted_and_the_codec_endpoint_decodes_them(api, client):
    name = unique_name("codec")
    job_id = (await deploy(api, name))["job_id"]
    await wait_for_job(api, job_id)
    raw = await client.get_workflow_handle(job_id).fetch_history()
    start = raw.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert start.metadata["encoding"] == b"binary/encrypted"
    assert name.encode() not in start.data

    response = await api.post("/codec/decode", json={"payloads": [wire(start)]})
    assert response.status_code == 200, response.text
    decoded = response.json()["payloads"][0]
    assert base64.b64decode(decoded["metadata"]["encoding"]) == b"json/plain"
    assert json.loads(base64.b64decode(decoded["data"]))["spec"]["service_name"] == name

    every = [
        wire(p)
        for event in raw.events
        for p in _payloads(event)
        if p.metadata.get("encoding") == b"binary/encrypted"
    ]
    assert (await api.post("/codec/decode", json={"payloads": every})).status_code == 200


async def test_encode_then_decode_round_trips_and_tampering_is_refused(api):
    plain = {
        "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
        "data": base64.b64encode(b'{"a": 1}').decode(),
    }
    sealed = (await api.post("/codec/encode", json={"payloads": [plain]})).json()["payloads"][0]
    assert sealed["data"] != plain["data"]
    opened = (await api.post("/codec/decode", json={"payloads": [sealed]})).json()["payloads"][0]
    assert opened == plain

    tampered = dict(sealed, data=base64.b64encode(b"x" * 40).decode())
    refused = await api.post("/codec/decode", json={"payloads": [tampered]})
    assert refused.status_code == 400
    assert (
        await api.post("/codec/decode", json={"payloads": [{"data": "%%%"}]})
    ).status_code == 400


async def test_without_loopback_access_the_codec_needs_the_secrets_scope(
    api, data_dir, settings, localcloud
):
    closed = make_settings(
        data_dir, settings.temporal_address, localcloud.url, codec_allow_loopback=False
    )
    reader = (await api.post("/api/v1/api-keys", json={"name": "r", "scopes": ["read"]})).json()
    body = {"payloads": []}
    with ApiServer(closed) as server:
        async with httpx.AsyncClient(verify=client_context(), base_url=server.url) as http:
            assert (await http.post("/codec/decode", json=body)).status_code == 401
            denied = await http.post(
                "/codec/decode", json=body, headers={"Authorization": f"Bearer {reader['key']}"}
            )
            assert denied.status_code == 403
            allowed = await http.post(
                "/codec/decode", json=body, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
            )
            assert allowed.status_code == 200
