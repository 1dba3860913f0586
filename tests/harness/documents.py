"""The outside API the assistant's scenarios learn and call, served on loopback (on the harness
platform's outbound allow-list): under any prefix (`/<case name>`), an OpenAPI document whose server
is under that prefix, and that API's widgets. A case learns its own copy, so the tool a turn calls is
the case's own, and its calls are counted by the prefix (`calls`)."""

from __future__ import annotations

import json

from tests.helpers.local_http import LocalHttpServer, Seen

DOCUMENT_PATH = "/openapi.json"
WIDGETS = {"widgets": [{"id": "w1", "name": "bolt"}, {"id": "w2", "name": "nut"}]}
_JSON = {"Content-Type": "application/json"}


def document(prefix: str) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Inventory", "version": "1"},
        "servers": [{"url": f"{prefix}/v1"}],
        "paths": {
            "/widgets": {
                "get": {"operationId": "listWidgets", "summary": "List the inventory widgets"},
                "post": {
                    "operationId": "createWidget",
                    "summary": "Create a widget",
                    "requestBody": {
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                },
            },
            "/widgets/{widget_id}": {
                "parameters": [{"name": "widget_id", "in": "path", "schema": {"type": "string"}}],
                "get": {"operationId": "getWidget", "summary": "One widget"},
            },
        },
    }


def _answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    path = seen.path.split("?", 1)[0]
    if path.endswith(DOCUMENT_PATH):
        return 200, _JSON, json.dumps(document(path.removesuffix(DOCUMENT_PATH))).encode()
    if "/v1/widgets" in path:
        return 200, _JSON, json.dumps(WIDGETS).encode()
    return 404, _JSON, b'{"error": "not found"}'


def documents_server() -> LocalHttpServer:
    return LocalHttpServer(_answer)


def calls(server: LocalHttpServer, prefix: str) -> int:
    """The calls the API's operations under `prefix` received (its document's reads left out)."""
    return sum(1 for seen in server.requests if seen.path.startswith(f"{prefix}/v1/"))
