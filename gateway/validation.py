"""The seed's RunnerRequest checks, with its messages, done before anything is forwarded (400)."""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.envelope import GatewayError

_OWNER_REPO = re.compile(r"^[^/\s]+/[^/\s]+$")
REQUIRED = ("scope", "scope_name")


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise GatewayError(400, "JSON inválido en el cuerpo de la solicitud") from None


def validate_runner_request(body: Any) -> None:
    if not isinstance(body, dict):
        raise GatewayError(400, "El cuerpo debe ser un objeto JSON")
    for field in REQUIRED:
        if field not in body or body[field] is None:
            raise GatewayError(400, f"Campo obligatorio faltante: {field}")
    if body["scope"] not in ("repo", "org"):
        raise GatewayError(400, "Scope debe ser 'repo' u 'org'")
    scope_name = body["scope_name"]
    if not isinstance(scope_name, str) or not scope_name.strip():
        raise GatewayError(400, "scope_name debe ser un string no vacío")
    if body["scope"] == "repo" and not _OWNER_REPO.match(scope_name):
        raise GatewayError(400, "Para scope='repo', scope_name debe tener formato owner/repo")
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10:
        raise GatewayError(400, "count debe ser un entero entre 1 y 10")
    labels = body.get("labels")
    if labels is not None and (
        not isinstance(labels, list)
        or not all(isinstance(label, str) and label.strip() for label in labels)
    ):
        raise GatewayError(400, "labels debe ser una lista de strings no vacíos")
    for field in ("runner_name", "runner_group"):
        if body.get(field) is not None and not isinstance(body[field], str):
            raise GatewayError(400, f"{field} debe ser un string")
