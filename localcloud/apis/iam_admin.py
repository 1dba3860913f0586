"""IAM Admin API v1: service accounts (create, get, list, delete), as the IAM REST API answers them.

An account's resource name carries the project id and its email
(`projects/{project}/serviceAccounts/{account_id}@{project}.iam.gserviceaccount.com`); get and delete
also accept `-` for the project and the account's unique id in place of the email, as the real API
does. Account ids follow IAM's rule (6-30 characters, `[a-z]([-a-z0-9]*[a-z0-9])`); a taken id is
409 ALREADY_EXISTS, an unknown account 404 NOT_FOUND, in Google's error envelope.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import secrets
from typing import Any

from fastapi import APIRouter, Request

from localcloud import paging, protojson
from localcloud.errors import already_exists, invalid, not_found
from localcloud.state import LocalCloudState, state_of

API = "iam_admin"
router = APIRouter(prefix="/v1/projects/{project}/serviceAccounts", tags=["iam_admin"])

_ACCOUNT_ID = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])$")
_MAX_DISPLAY_NAME = 100
_MAX_DESCRIPTION = 256


@router.post("")
async def create_service_account(project: str, request: Request) -> dict[str, Any]:
    body = await protojson.body(request)
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received.")
    account_id = body.get("accountId") or ""
    if not isinstance(account_id, str) or not (
        6 <= len(account_id) <= 30 and _ACCOUNT_ID.match(account_id)
    ):
        raise invalid(
            f"Invalid account ID {account_id!r}: account IDs must match "
            "[a-z]([-a-z0-9]*[a-z0-9]) and be 6-30 characters long."
        )
    if project == "-":
        raise invalid("A project id is required to create a service account.")
    fields = body.get("serviceAccount") or {}
    if not isinstance(fields, dict):
        raise invalid("Invalid value for serviceAccount.")
    display_name = str(fields.get("displayName", ""))
    description = str(fields.get("description", ""))
    if len(display_name) > _MAX_DISPLAY_NAME:
        raise invalid(f"Display name is longer than {_MAX_DISPLAY_NAME} characters.")
    if len(description) > _MAX_DESCRIPTION:
        raise invalid(f"Description is longer than {_MAX_DESCRIPTION} bytes.")
    email = f"{account_id}@{project}.iam.gserviceaccount.com"
    state = state_of(request)
    with state.lock:
        accounts = _accounts(state)
        if email in accounts:
            raise already_exists(
                f"Service account {account_id} already exists within project projects/{project}."
            )
        unique_id = _unique_id()
        account = {
            "name": f"projects/{project}/serviceAccounts/{email}",
            "projectId": project,
            "uniqueId": unique_id,
            "email": email,
            "displayName": display_name,
            "description": description,
            "etag": base64.b64encode(hashlib.sha256(email.encode()).digest()[:8]).decode(),
            "oauth2ClientId": unique_id,
        }
        accounts[email] = account
        state.save(API)
        return _render(account)


@router.get("")
async def list_service_accounts(project: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    with state.lock:
        found = [
            copy.deepcopy(a)
            for _, a in sorted(_accounts(state).items())
            if a["projectId"] == project
        ]
    items, token = paging.page(found, *paging.query_params(request), 20, 100)
    return paging.list_body("accounts", [_render(a) for a in items], token)


@router.get("/{account}")
async def get_service_account(project: str, account: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    with state.lock:
        return _render(_find(state, project, account))


@router.delete("/{account}")
async def delete_service_account(project: str, account: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    with state.lock:
        found = _find(state, project, account)
        del _accounts(state)[found["email"]]
        state.save(API)
    return {}


def _unique_id() -> str:
    # 21 digits, never starting with 0, as IAM's numeric ids are.
    return str(secrets.randbelow(9 * 10**20) + 10**20)


def _find(state: LocalCloudState, project: str, account: str) -> dict[str, Any]:
    accounts = _accounts(state)
    found = accounts.get(account)
    if found is None and account.isdigit():
        found = next((a for a in accounts.values() if a["uniqueId"] == account), None)
    if found is None or (project != "-" and found["projectId"] != project):
        raise not_found(f"Unknown service account: projects/{project}/serviceAccounts/{account}")
    return found


def _accounts(state: LocalCloudState) -> dict[str, dict[str, Any]]:
    return state.document(API).setdefault("accounts", {})


def _render(account: dict[str, Any]) -> dict[str, Any]:
    # proto3 JSON omits empty strings, as Google's JSON answers do.
    return {k: v for k, v in account.items() if v not in ("", None)}
