"""GitHub REST for self-hosted runners through `githubkit` (async): JIT configs, runner lookups
and removal, for a repo or an org. Built from settings (the local cloud's `/github` by default,
api.github.com with a token in production); its errors mapped to Temporal failures: Temporal does
the retrying, so githubkit's own retries and HTTP cache are off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from githubkit import GitHub
from githubkit.exception import RequestError, RequestFailed, RequestTimeout
from temporalio.exceptions import ApplicationError

from contracts.jobs import without_endpoints
from contracts.runners.runners import RunnerTarget
from core.settings import Settings
from providers.tls import client_context

USER_AGENT = "conneskills-platform-runners"


class GitHubRunners:
    def __init__(self, settings: Settings) -> None:
        self.github = GitHub(
            settings.resolved_github_api_token,
            base_url=settings.resolved_github_api_url,
            user_agent=USER_AGENT,
            auto_retry=False,
            http_cache=False,
            timeout=30,
            # githubkit builds an httpx client per request: without a context of its own, each
            # loaded the whole CA bundle again (~40 ms of CPU a request).
            ssl_verify=client_context(),
        )
        self.actions = self.github.rest.actions

    async def group_id(self, target: RunnerTarget, group: str | None) -> int:
        """Repo runners are always in the Default group (1); an org's group is looked up by name."""
        if target.scope == "repo" or not group or group.lower() == "default":
            return 1
        page = await self.actions.async_list_self_hosted_runner_groups_for_org(
            target.scope_name, per_page=100
        )
        for runner_group in page.parsed_data.runner_groups:
            if runner_group.name.lower() == group.lower():
                return runner_group.id
        raise ApplicationError(
            f"runner group {group!r} does not exist in {target.scope_name}",
            type="NotFound",
            non_retryable=True,
        )

    async def jitconfig(
        self, target: RunnerTarget, name: str, labels: list[str], group_id: int
    ) -> tuple[int, str]:
        """Registers the runner; returns (GitHub runner id, encoded JIT config)."""
        data: dict[str, Any] = {"name": name, "runner_group_id": group_id, "labels": labels}
        if target.scope == "repo":
            owner, repo = target.scope_name.split("/", 1)
            answer = await self.actions.async_generate_runner_jitconfig_for_repo(
                owner, repo, data=data
            )
        else:
            answer = await self.actions.async_generate_runner_jitconfig_for_org(
                target.scope_name, data=data
            )
        body = answer.parsed_data
        return body.runner.id, body.encoded_jit_config

    async def find(self, target: RunnerTarget, name: str) -> dict[str, Any] | None:
        for runner in await self.list(target, name=name):
            if runner["name"] == name:
                return runner
        return None

    async def list(self, target: RunnerTarget, name: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            kwargs: dict[str, Any] = {"per_page": 100, "page": page}
            if name:
                kwargs["name"] = name
            if target.scope == "repo":
                owner, repo = target.scope_name.split("/", 1)
                answer = await self.actions.async_list_self_hosted_runners_for_repo(
                    owner, repo, **kwargs
                )
            else:
                answer = await self.actions.async_list_self_hosted_runners_for_org(
                    target.scope_name, **kwargs
                )
            runners = answer.json()["runners"]
            found += runners
            if len(runners) < 100:
                return found
            page += 1

    async def delete(self, target: RunnerTarget, runner_id: int) -> bool:
        """True once the runner is gone; one already gone (404) counts as done."""
        try:
            if target.scope == "repo":
                owner, repo = target.scope_name.split("/", 1)
                await self.actions.async_delete_self_hosted_runner_from_repo(owner, repo, runner_id)
            else:
                await self.actions.async_delete_self_hosted_runner_from_org(
                    target.scope_name, runner_id
                )
        except RequestFailed as error:
            if error.response.status_code == 404:
                return False
            raise
        return True


def _message(error: RequestFailed) -> str:
    try:
        return str(error.response.json().get("message") or error.response.status_code)
    except ValueError:
        return str(error.response.status_code)


@contextmanager
def as_temporal_failures(what: str) -> Iterator[None]:
    """404/409/401/403 and 422 are final, except "still running a job" (422) and a rate limit
    (403/429), which end by themselves: retried. 5xx and no answer are retried."""
    try:
        yield
    except RequestFailed as error:
        status = error.response.status_code
        message = f"{what}: GitHub answered {status}: {without_endpoints(_message(error))}"
        if status == 422 and "still running a job" in message:
            raise ApplicationError(message, type="RunnerBusy") from None
        if status in (403, 429) and (
            error.response.headers.get("x-ratelimit-remaining") == "0"
            or "rate limit" in message.lower()
        ):
            # Primary or secondary rate limit: it lifts by itself, so the step waits and retries.
            raise ApplicationError(message, type="RateLimited") from None
        if status == 409:
            raise ApplicationError(message, type="AlreadyExists", non_retryable=True) from None
        if status in (400, 401, 403, 404, 422):
            raise ApplicationError(message, type="GitHubRejected", non_retryable=True) from None
        raise ApplicationError(message, type="GitHubUnavailable") from None
    except (RequestTimeout, RequestError, httpx.TransportError) as error:
        reason = "timed out" if isinstance(error, RequestTimeout) else "connection failed"
        raise ApplicationError(
            f"{what}: GitHub did not answer ({reason})", type="GitHubUnavailable"
        ) from None
