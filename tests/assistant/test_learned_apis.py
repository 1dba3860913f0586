"""Learned APIs end to end: an OpenAPI document served on loopback (its port on the allow-list) is
learned by a LearnApi job on a real worker, listed with its endpoint count, and called by the
assistant through `/api/chat`; URLs the outbound guard refuses never reach anything."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from sqlalchemy import select

from core.settings import Settings
from providers import openapi_spec
from providers.google.secret_manager import SecretStore
from store.assistant.models import LearnedApi, LearnedOperation
from tests.helpers.local_http import LocalHttpServer, Seen
from tests.helpers.platform import wait_for_job

WIDGETS = {"widgets": [{"id": "w1", "name": "bolt"}, {"id": "w2", "name": "nut"}]}
DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Inventory", "version": "1"},
    "servers": [{"url": "/v1"}],
    "paths": {
        "/widgets": {
            "get": {
                "operationId": "listWidgets",
                "summary": "List the inventory widgets",
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
            },
            "post": {
                "operationId": "createWidget",
                "summary": "Create a widget",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/W"}}},
                },
            },
        },
        "/widgets/{widget_id}": {
            "parameters": [{"name": "widget_id", "in": "path", "schema": {"type": "string"}}],
            "get": {"operationId": "getWidget", "summary": "One widget"},
        },
    },
    "components": {
        "schemas": {"W": {"type": "object", "properties": {"name": {"type": "string"}}}}
    },
}


@pytest.fixture(scope="module")
def forbidden():
    """A loopback server no allow-list names: nothing may ever reach it."""
    with LocalHttpServer(lambda seen: (200, {}, b"{}")) as server:
        yield server


@pytest.fixture(scope="module")
def inventory(forbidden):
    def answer(seen: Seen):
        json_type = {"Content-Type": "application/json"}
        if seen.path == "/openapi.json":
            return 200, json_type, json.dumps(DOCUMENT).encode()
        if seen.path.startswith("/v1/widgets"):
            return 200, json_type, json.dumps(WIDGETS).encode()
        if seen.path == "/hook":
            return 204, {}, b""
        if seen.path == "/to-loopback":
            return 302, {"Location": f"{forbidden.url}/openapi.json"}, b""
        if seen.path == "/to-metadata":
            return 307, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""
        return 404, json_type, b'{"error": "not found"}'

    with LocalHttpServer(answer) as server:
        yield server


@pytest.fixture(scope="module")
def assistant_settings(settings: Settings, inventory) -> Settings:
    return settings.model_copy(
        update={
            "task_queue": f"assistant-{uuid.uuid4().hex[:8]}",
            "outbound_allowed_addresses": [f"127.0.0.1:{inventory.port}"],
        }
    )


async def test_a_learned_api_is_listed_and_called_by_the_assistant(
    console, assistant_worker, by_key, inventory
):
    hook = await console.post(
        "/api/webhooks",
        json={
            "url": f"{inventory.url}/hook",
            "events": ["api.learned"],
            "secret": "learned-secret",
        },
    )
    assert hook.status_code == 201, hook.text
    started = await console.post(
        "/api/learned-apis",
        json={"type": "openapi", "source": f"{inventory.url}/openapi.json", "name": "Inventory"},
    )
    assert started.status_code == 202, started.text
    api_id, job_id = started.json()["id"], started.json()["job_id"]
    job = await wait_for_job(by_key, job_id)
    assert job["status"] == "completed", job

    # `api.learned` reaches the webhook (signed; tests/assistant/test_webhooks.py checks how).
    deadline = time.monotonic() + 60
    while not (
        announced := [
            json.loads(r.body)
            for r in inventory.requests
            if r.path == "/hook" and json.loads(r.body)["data"].get("api_id") == api_id
        ]
    ):
        assert time.monotonic() < deadline, "api.learned was not delivered"
        await asyncio.sleep(0.2)
    assert announced[0]["type"] == "api.learned" and announced[0]["data"]["endpoints"] == 3
    assert (await console.delete(f"/api/webhooks/{hook.json()['id']}")).status_code == 204

    apis = (await console.get("/api/learned-apis")).json()["apis"]
    learned = next(api for api in apis if api["id"] == api_id)
    assert learned["name"] == "Inventory" and learned["endpoints"] == 3
    assert learned["base_url"] == f"{inventory.url}/v1"

    conversation = (await console.post("/api/conversations")).json()["id"]
    answer = await console.post(
        "/api/chat", json={"conversation_id": conversation, "message": "list the inventory widgets"}
    )
    assert answer.status_code == 200, answer.text
    (call,) = answer.json()["message"]["tool_calls"]
    assert call["name"].endswith("__list_widgets") and call["ok"] is True, call
    assert call["result"] == WIDGETS
    assert "2 widgets" in answer.json()["message"]["content"]
    assert [r.path for r in inventory.requests if r.path.startswith("/v1/")] == ["/v1/widgets"]


@pytest.mark.parametrize(
    "source",
    [
        "http://127.0.0.1:{forbidden}/openapi.json",
        "http://localhost:{forbidden}/openapi.json",
        "http://[::1]:{forbidden}/openapi.json",
        "http://10.0.0.7/openapi.json",
        "http://192.168.1.10/openapi.json",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:{forbidden}/openapi.json",
        "file:///etc/passwd",
        "ftp://example.com/openapi.json",
        "gopher://127.0.0.1:{forbidden}/x",
    ],
)
async def test_sources_the_guard_refuses_are_400_and_reach_nothing(console, forbidden, source):
    answer = await console.post(
        "/api/learned-apis",
        json={"type": "openapi", "source": source.format(forbidden=forbidden.port)},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "INVALID_REQUEST"
    assert forbidden.requests == []


@pytest.mark.parametrize("path", ["/to-loopback", "/to-metadata"])
async def test_a_redirect_to_a_forbidden_address_fails_the_job_before_connecting(
    console, assistant_worker, by_key, inventory, forbidden, path
):
    started = await console.post(
        "/api/learned-apis", json={"type": "openapi", "source": f"{inventory.url}{path}"}
    )
    assert started.status_code == 202, started.text
    job = await wait_for_job(by_key, started.json()["job_id"])
    assert job["status"] == "failed", job
    assert "refused" in job["error"], job["error"]
    assert forbidden.requests == []
    assert started.json()["id"] not in {
        api["id"] for api in (await console.get("/api/learned-apis")).json()["apis"]
    }


async def test_credentials_are_sent_by_secret_name_and_stored_nowhere(
    console, by_key, assistant_worker, inventory, assistant_settings, db
):
    name, value = f"inventory-token-{uuid.uuid4().hex[:6]}", "tok-" + uuid.uuid4().hex
    store = SecretStore(assistant_settings)
    await asyncio.to_thread(store.create, name, value, {"test": "learned-apis"})
    body = {
        "type": "openapi",
        "source": f"{inventory.url}/openapi.json",
        "credentials": {"secret": name},
    }
    # Naming a secret needs the secrets scope, which console users have not.
    refused = await console.post("/api/learned-apis", json=body)
    assert refused.status_code == 403, refused.text
    started = await by_key.post("/api/learned-apis", json=body)
    assert started.status_code == 202, started.text
    job = await wait_for_job(by_key, started.json()["job_id"])
    assert job["status"] == "completed", job
    fetched = [r for r in inventory.requests if r.headers.get("authorization")]
    assert fetched and fetched[-1].headers["authorization"] == f"Bearer {value}"
    assert value not in json.dumps(job)
    async with db.transaction() as session:
        api = await session.get(LearnedApi, started.json()["id"])
        assert api.credentials["secret"] == name
        operations = (
            await session.scalars(select(LearnedOperation).where(LearnedOperation.api_id == api.id))
        ).all()
        stored = json.dumps(
            [api.credentials, api.source, *[(o.parameters, o.description) for o in operations]]
        )
    assert value not in stored and len(operations) == 3


def test_a_swagger_2_yaml_document_is_read_too():
    document = openapi_spec.load(
        b"""
swagger: "2.0"
info: {title: Pets}
host: pets.example.com
basePath: /api
schemes: [https]
paths:
  /pets/{id}:
    get:
      operationId: getPet
      parameters:
        - {name: id, in: path, type: string, required: true}
        - {name: verbose, in: query, type: boolean}
    delete:
      summary: Remove a pet
      parameters:
        - {name: id, in: path, type: string, required: true}
  /pets:
    post:
      parameters:
        - {name: pet, in: body, required: true, schema: {$ref: "#/definitions/Pet"}}
definitions:
  Pet: {type: object, properties: {name: {type: string}}}
"""
    )
    learned = openapi_spec.learn(document, "https://docs.example.com/pets.yaml", "pets")
    assert learned.base_url == "https://pets.example.com/api"
    ops = {op.tool_name: op for op in learned.operations}
    assert set(ops) == {"pets__get_pet", "pets__delete_pets_id", "pets__post_pets"}
    assert ops["pets__get_pet"].locations == {"id": "path", "verbose": "query"}
    assert ops["pets__get_pet"].parameters["required"] == ["id"]
    assert ops["pets__delete_pets_id"].method == "DELETE"
    assert ops["pets__post_pets"].parameters["properties"]["body"]["properties"] == {
        "name": {"type": "string"}
    }
