"""An OpenAPI 3 or Swagger 2 document (JSON or YAML) turned into tools: one per operation, named
`<api slug>__<operation>`, whose parameters' JSON schema says where each goes (path, query,
header, or `body` for the request body). Pure functions: fetching is the activity's."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# Operations learned of one API at most, and the depth `$ref`s are followed to.
MAX_OPERATIONS = 200
_MAX_DEPTH = 8
_TOOL_NAME = 64


class NotADocument(ValueError):
    """The document is not an OpenAPI 3 or Swagger 2 document the platform can learn from."""


@dataclass(frozen=True)
class Operation:
    tool_name: str
    method: str
    path: str
    description: str
    parameters: dict[str, Any]
    locations: dict[str, str]


@dataclass(frozen=True)
class Learned:
    title: str
    base_url: str
    operations: list[Operation]


def load(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotADocument("the document is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            raise NotADocument("the document is neither JSON nor YAML") from None
    if not isinstance(document, dict):
        raise NotADocument("the document is not an object")
    return document


def learn(document: dict[str, Any], source: str, slug: str) -> Learned:
    version = str(document.get("openapi") or "")
    if version.startswith("3."):
        base_url = _servers_url(document, source)
    elif str(document.get("swagger") or "") == "2.0":
        base_url = _swagger_url(document, source)
    else:
        raise NotADocument('neither `openapi: 3.x` nor `swagger: "2.0"`')
    paths = document.get("paths")
    if not isinstance(paths, dict) or not paths:
        raise NotADocument("the document has no paths")
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    operations: list[Operation] = []
    names: set[str] = set()
    for path, item in paths.items():
        if not isinstance(item, dict) or not str(path).startswith("/"):
            continue
        item = _resolve(document, item)
        shared = item.get("parameters") or []
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            if len(operations) >= MAX_OPERATIONS:
                break
            name = _tool_name(slug, operation.get("operationId"), method, str(path), names)
            names.add(name)
            operations.append(_operation(document, name, method, str(path), operation, shared))
    if not operations:
        raise NotADocument("the document has no operations")
    return Learned(
        title=str(info.get("title") or "")[:100], base_url=base_url, operations=operations
    )


def _servers_url(document: dict[str, Any], source: str) -> str:
    servers = document.get("servers")
    url = ""
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = str(servers[0].get("url") or "")
        for name, variable in (servers[0].get("variables") or {}).items():
            if isinstance(variable, dict):
                url = url.replace("{" + name + "}", str(variable.get("default", "")))
    return urljoin(source, url or "/").rstrip("/")


def _swagger_url(document: dict[str, Any], source: str) -> str:
    host = document.get("host")
    base = str(document.get("basePath") or "")
    if not host:
        return urljoin(source, base or "/").rstrip("/")
    schemes = document.get("schemes") or []
    scheme = "https" if "https" in schemes else (schemes[0] if schemes else source.split(":")[0])
    return f"{scheme}://{host}{base}".rstrip("/")


def _snake(text: str) -> str:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def _tool_name(slug: str, operation_id: Any, method: str, path: str, taken: set[str]) -> str:
    base = _snake(str(operation_id)) if operation_id else _snake(f"{method} {path}")
    name = f"{slug}__{base or method}"[:_TOOL_NAME]
    candidate, n = name, 2
    while candidate in taken:
        suffix = f"_{n}"
        candidate, n = name[: _TOOL_NAME - len(suffix)] + suffix, n + 1
    return candidate


def _resolve(document: dict[str, Any], value: Any, depth: int = 0) -> Any:
    """`value` with its local `$ref`s (`#/...`) replaced, to a bounded depth; others dropped."""
    if depth > _MAX_DEPTH:
        return {}
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str):
            return _resolve(document, _pointer(document, ref), depth + 1)
        return {k: _resolve(document, v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(document, v, depth + 1) for v in value]
    return value


def _pointer(document: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        return {}
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return {}
        node = node[part]
    return node


def _operation(
    document: dict[str, Any],
    name: str,
    method: str,
    path: str,
    operation: dict[str, Any],
    shared: list[Any],
) -> Operation:
    operation = _resolve(document, operation)
    properties: dict[str, Any] = {}
    required: list[str] = []
    locations: dict[str, str] = {}
    merged = {}
    for parameter in [*shared, *(operation.get("parameters") or [])]:
        if isinstance(parameter, dict) and parameter.get("name"):
            merged[(parameter.get("in"), parameter["name"])] = parameter
    for (where, pname), parameter in merged.items():
        if where not in ("path", "query", "header", "body"):
            continue
        key = "body" if where == "body" else str(pname)
        schema = parameter.get("schema") if isinstance(parameter.get("schema"), dict) else None
        if schema is None:  # Swagger 2: the type is on the parameter
            schema = {
                k: parameter[k] for k in ("type", "enum", "format", "items") if k in parameter
            }
        schema = dict(schema or {"type": "string"})
        if parameter.get("description"):
            schema["description"] = str(parameter["description"])[:300]
        properties[key] = schema
        locations[key] = where
        if parameter.get("required") or where == "path":
            required.append(key)
    body = operation.get("requestBody")
    if isinstance(body, dict):
        content = body.get("content") or {}
        media = content.get("application/json") or next(iter(content.values()), {})
        if isinstance(media, dict):
            properties["body"] = dict(media.get("schema") or {"type": "object"})
            locations["body"] = "body"
            if body.get("required"):
                required.append("body")
    words = operation.get("summary") or operation.get("description") or f"{method.upper()} {path}"
    description = f"{str(words).strip()[:900]} ({method.upper()} {path})"
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = sorted(set(required))
    return Operation(
        tool_name=name,
        method=method.upper(),
        path=path,
        description=description[:1000],
        parameters=schema,
        locations=locations,
    )
