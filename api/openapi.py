"""The OpenAPI document declares what the API really answers.

FastAPI declares 422 for validation errors, which this API answers as 400, and nothing else. Here,
once for every operation, the statuses that follow from its shape are added with the error
envelope: 400 when it takes input, 401/403 when it needs a key, 404 when its path names a resource,
413/415 when it takes a body, 409 when it takes an Idempotency-Key. What only the code knows
(409 conflicts, 502/503 from outside systems) the routers declare with `api.errors.answers`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from api.auth import SECURITY_SCHEMES
from api.errors import DESCRIPTIONS, ErrorEnvelope

ENVELOPE_REF = f"#/components/schemas/{ErrorEnvelope.__name__}"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def implied_statuses(operation: dict[str, Any]) -> set[int]:
    parameters = operation.get("parameters", [])
    body = "requestBody" in operation
    statuses: set[int] = set()
    if parameters or body:
        statuses.add(400)
    if operation.get("security"):
        statuses |= {401, 403}
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    if body:
        statuses |= {413, 415}
    if any(p["in"] == "header" and p["name"].lower() == "idempotency-key" for p in parameters):
        statuses.add(409)
    return statuses


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": ENVELOPE_REF}}},
    }


# Models a route documents by hand (a body it reads itself, such as a streamed upload form): their
# schemas are added to the components so the route's `$ref` resolves.
_EXTRA_SCHEMAS: list[type[BaseModel]] = []


def documented_schema(model: type[BaseModel]) -> dict[str, str]:
    """Registers `model` in the document's components; answers the `$ref` to it."""
    if model not in _EXTRA_SCHEMAS:
        _EXTRA_SCHEMAS.append(model)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    secured = False
    for path in document.get("paths", {}).values():
        for method, operation in path.items():
            if method not in _METHODS:
                continue
            secured = secured or bool(operation.get("security"))
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status in sorted(implied_statuses(operation)):
                responses.setdefault(str(status), _error_response(status))
    if secured:
        # Declared by JsonRoute on the routes that authenticate (api/auth.py says why not by FastAPI).
        document.setdefault("components", {}).setdefault("securitySchemes", {}).update(
            SECURITY_SCHEMES
        )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    for model in _EXTRA_SCHEMAS:
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(generated.pop("$defs", {}))
        schemas.setdefault(model.__name__, generated)
    if ErrorEnvelope.__name__ not in schemas:
        generated = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(generated.pop("$defs", {}))
        schemas[ErrorEnvelope.__name__] = generated
    return document


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
