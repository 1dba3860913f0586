"""Cloud Logging API v2: entries:write, entries:list (with the query-language subset), logs list/delete."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request

from localcloud import logstore, naming, paging, protojson
from localcloud.errors import invalid, not_found
from localcloud.logfilter import FilterError, compile_filter
from localcloud.state import state_of

router = APIRouter(prefix="/v2", tags=["cloud_logging"])

_LOG_NAME = re.compile(r"^(projects|organizations|folders|billingAccounts)/[^/]+/logs/[^/]+$")
_PAYLOADS = ("textPayload", "jsonPayload", "protoPayload")
_ORDERS = {"timestamp asc": False, "timestamp": False, "timestamp desc": True}


@router.post("/entries:write")
async def write_entries(request: Request) -> dict[str, Any]:
    body = await protojson.body(request)
    if not isinstance(body, dict) or not isinstance(body.get("entries", []), list):
        raise invalid("Invalid JSON payload received: entries must be a list.")
    defaults = {k: body[k] for k in ("logName", "resource", "labels") if k in body}
    entries = [_validate(entry, defaults, i) for i, entry in enumerate(body.get("entries", []))]
    if not (body.get("dryRun") or body.get("dry_run")):
        logstore.append(state_of(request), entries)
    return {}


@router.post("/entries:list")
async def list_entries(request: Request) -> dict[str, Any]:
    body = await protojson.body(request)
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received: expected an object.")
    resources = list(body.get("resourceNames") or [])
    resources += [f"projects/{p}" for p in body.get("projectIds") or []]
    if not resources:
        raise invalid("resource_names: at least one resource name is required.")
    order = str(body.get("orderBy") or "timestamp asc").strip().lower()
    if order not in _ORDERS:
        raise invalid(f"Invalid order_by {body.get('orderBy')!r}: use 'timestamp asc' or 'desc'.")
    try:
        matches = compile_filter(body.get("filter"))
    except FilterError as exc:
        raise invalid(f"Invalid filter expression: {exc}") from None
    prefixes = tuple(_project_prefix(r) for r in resources)
    entries = [
        e
        for e in logstore.all_entries(state_of(request))
        if e.get("logName", "").startswith(prefixes) and matches(e)
    ]
    if _ORDERS[order]:
        entries.reverse()
    items, token = paging.page(entries, body.get("pageSize"), body.get("pageToken"), 50, 1000)
    return paging.list_body("entries", items, token)


@router.get("/projects/{project}/logs")
async def list_logs(project: str, request: Request) -> dict[str, Any]:
    prefix = f"projects/{project}/logs/"
    names = sorted(
        {
            e["logName"]
            for e in logstore.all_entries(state_of(request))
            if e["logName"].startswith(prefix)
        }
    )
    items, token = paging.page(names, *paging.query_params(request), 1000, 1000)
    return paging.list_body("logNames", items, token)


@router.delete("/projects/{project}/logs/{log_id:path}")
async def delete_log(project: str, log_id: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    wanted = unquote(f"projects/{project}/logs/{log_id}")
    with state.lock:
        doc = state.document(logstore.API)
        entries = doc.get("entries", [])
        kept = [e for e in entries if unquote(e["logName"]) != wanted]
        if len(kept) == len(entries):
            raise not_found(f"Log {quote(wanted, safe='/')} does not exist.")
        doc["entries"] = kept
        state.save(logstore.API)
    return {}


def _validate(entry: Any, defaults: dict[str, Any], index: int) -> dict[str, Any]:
    where = f"entries[{index}]"
    if not isinstance(entry, dict):
        raise invalid(f"{where}: a log entry must be an object.")
    entry = dict(entry)
    for key in ("logName", "resource"):
        entry.setdefault(key, defaults.get(key))
    if defaults.get("labels") or entry.get("labels"):
        entry["labels"] = {**defaults.get("labels", {}), **(entry.get("labels") or {})}
    if not entry.get("logName") or not _LOG_NAME.match(str(entry["logName"])):
        raise invalid(f"{where}.log_name: invalid or missing log name {entry.get('logName')!r}.")
    resource = entry.get("resource")
    if not isinstance(resource, dict) or not resource.get("type"):
        raise invalid(f"{where}.resource: a monitored resource with a type is required.")
    if sum(key in entry for key in _PAYLOADS) > 1:
        raise invalid(f"{where}: at most one of textPayload, jsonPayload, protoPayload.")
    try:
        entry["severity"] = logstore.severity_name(entry.get("severity"))
        if entry.get("timestamp"):
            naming.parse_rfc3339(str(entry["timestamp"]))
    except ValueError as exc:
        raise invalid(f"{where}: {exc}") from None
    return {k: v for k, v in entry.items() if v is not None}


def _project_prefix(resource_name: str) -> str:
    parts = resource_name.split("/")
    if len(parts) < 2 or parts[0] not in (
        "projects",
        "organizations",
        "folders",
        "billingAccounts",
    ):
        raise invalid(f"Invalid resource name {resource_name!r}.")
    return f"{parts[0]}/{parts[1]}/"
