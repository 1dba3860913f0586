"""The platform's own API as an outside system, for the assistant's platform tools: a GET (or, for
a tool that changes things, a POST) on one of its routes with the admin key the worker finds under
the data dir (core.local_keys), so a tool answers exactly what the route answers, with its
validation. Maps errors to final or retryable."""

from __future__ import annotations

import json
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

from core.local_keys import admin_api_key
from core.settings import Settings
from providers.tls import client_context


class PlatformRefused(Exception):
    """The route answered 4xx: a final answer the LLM is told (a job that does not exist...)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


async def read(settings: Settings, path: str, params: dict[str, Any]) -> Any:
    """The route's JSON answer; PlatformRefused for a 4xx, a retryable failure otherwise."""
    return await call(settings, "GET", path, params)


async def call(settings: Settings, method: str, path: str, params: dict[str, Any]) -> Any:
    """A GET (parameters in the query) or a POST, PUT or DELETE (parameters as the JSON body, none
    when empty); answered as `read` answers (a 204 as `{"status": 204}`)."""
    headers = {"X-API-Key": admin_api_key(settings)}
    try:
        async with httpx.AsyncClient(
            base_url=settings.resolved_assistant_platform_api_url,
            timeout=30,
            verify=client_context(),
        ) as http:
            if method == "GET":
                answer = await http.get(path, params=params, headers=headers)
            else:
                answer = await http.request(method, path, json=params or None, headers=headers)
    except httpx.HTTPError as error:
        raise ApplicationError(
            f"the platform API is unreachable: {type(error).__name__}", type="Unavailable"
        ) from None
    if 400 <= answer.status_code < 500 and answer.status_code != 429:
        raise PlatformRefused(answer.status_code, answer.text[:1000])
    if answer.status_code >= 300:
        raise ApplicationError(
            f"the platform API answered {answer.status_code}", type="Unavailable"
        )
    if answer.status_code == 204:
        return {"status": 204}
    try:
        return answer.json()
    except json.JSONDecodeError:
        raise ApplicationError(
            "the platform API answered something that is not JSON", non_retryable=True
        ) from None
