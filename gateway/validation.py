"""The seed's RunnerRequest checks, with its messages, done before anything is forwarded (415 for a
body that is not JSON, 400 for the rest)."""

from __future__ import annotations

import json
import re
from typing import Any

from api.http import is_json
from gateway.envelope import GatewayError

_OWNER_REPO = re.compile(r"^[^/\s]+/[^/\s]+$")
REQUIRED = ("scope", "scope_name")


def require_json(content_type: str | None) -> None:
    """The API's own rule (`api.http.is_json`), checked here because the gateway forwards the body
    as JSON: a form or plain-text body is refused (415) rather than relabelled."""
    if not is_json(content_type):
        media = (content_type or "").split(";", 1)[0].strip()[:100] or None
        raise GatewayError(
            415, "El cuerpo debe ser JSON (Content-Type: application/json)", {"content_type": media}
        )


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
