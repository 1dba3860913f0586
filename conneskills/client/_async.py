"""The asynchronous client: `AsyncClient` and its resources (the source `_sync.py` is generated from).

Models are the API's own (`api/schemas/...`), imported when a call first needs them (see
`conneskills/client/models.py`): the types are the API's, never a copy, and a program that only
reads jobs pays only for the job models.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from conneskills.client.errors import ConneSkillsError, JobWaitTimeout
from conneskills.client.models import (
    SETTLED,
    JobUpdate,
    LogEvent,
    OnFailure,
    SseParser,
    body_of,
    new_lines,
    parse,
)
from conneskills.client.retry import RetryPolicy

if TYPE_CHECKING:
    from api.schemas.api_keys import ApiKeyInfo
    from api.schemas.crm.admin import AccountResponse, Page
    from api.schemas.hosting.info import Heartbeat, Protected, Welcome
    from api.schemas.hosting.users import HostingUser, UserDetail
    from api.schemas.jobs import (
        CancelResponse,
        Job,
        JobControlResponse,
        JobList,
        JobLogs,
        JobResponse,
    )
    from api.schemas.provisioning.agents import AgentResponse, PromptInfo
    from api.schemas.provisioning.customers import (
        CustomerCreated,
        CustomerPortal,
        CustomerResponse,
        CustomerServices,
    )
    from api.schemas.provisioning.external_services import (
        ExternalServiceCreated,
        ExternalServiceDetails,
        ExternalServiceResponse,
        ExternalServiceSummary,
        OperationResult,
    )
    from api.schemas.provisioning.image_builds import ImageBuildJobResponse
    from api.schemas.provisioning.secrets import (
        SecretAuditEntry,
        SecretResponse,
        SecretValueResponse,
    )
    from api.schemas.provisioning.services import (
        ServiceDetails,
        ServiceInfo,
        ServiceList,
        ServiceLogs,
        ServicePlan,
        ServiceStatus,
    )
    from api.schemas.runners.runners import (
        CleanupReport,
        RunnerDestroyed,
        RunnersCreated,
        RunnerStatus,
    )

Body = Mapping[str, Any] | Any  # a mapping, or the API's request model (pydantic)

JOBS = "api.schemas.jobs"
SERVICES = "api.schemas.provisioning.services"
SECRETS = "api.schemas.provisioning.secrets"
CUSTOMERS = "api.schemas.provisioning.customers"
AGENTS = "api.schemas.provisioning.agents"
EXTERNAL = "api.schemas.provisioning.external_services"
RUNNERS = "api.schemas.runners.runners"
CRM = "api.schemas.crm.admin"
HOSTING = "api.schemas.hosting"


def _p(segment: str) -> str:
    """A path segment, quoted: a name can never step into another path."""
    return quote(str(segment), safe="")


def _job_headers(on_failure: OnFailure | None, idempotency_key: str | None) -> dict[str, str]:
    # Every job-starting POST carries an Idempotency-Key (the caller's, else a fresh one), so the
    # client's own retries after a 429/503 return the same job rather than starting a second one.
    headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
    if on_failure is not None:
        if on_failure not in ("rollback", "hold"):
            raise ValueError("on_failure must be 'rollback' or 'hold'")
        headers["X-Job-On-Failure"] = on_failure
    return headers


class AsyncTransport:
    """HTTP to the API: the key header, the error envelope, and retries on 429/503."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float,
        retry: RetryPolicy,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        headers = {"User-Agent": "conneskills-client"}
        if api_key:
            headers["X-API-Key"] = api_key
        self.retry = retry
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        params = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            try:
                response = await self.http.request(
                    method, path, params=params, json=json, data=data, headers=headers
                )
            except httpx.TimeoutException as error:
                raise ConneSkillsError(
                    f"the API did not answer in time ({type(error).__name__})", code="timeout"
                ) from None
            except httpx.TransportError as error:
                raise ConneSkillsError(
                    f"cannot reach the API at {self.http.base_url}: {error}",
                    code="connection_error",
                ) from None
            if response.is_success:
                return response
            delay = self.retry.delay(method, response, attempt, headers)
            if delay is None:
                raise ConneSkillsError.from_response(response)
            attempt += 1
            await asyncio.sleep(delay)

    async def call(self, method: str, path: str, model: str | None, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        if model is None or response.status_code == 204 or not response.content:
            return None
        return parse(model, response.json())

    async def aclose(self) -> None:
        await self.http.aclose()


class _AsyncResource:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport


class AsyncJobs(_AsyncResource):
    """`/api/v1/jobs`: read, follow and control jobs."""

    async def list(
        self,
        *,
        status: str | None = None,
        operation: str | None = None,
        service_name: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
    ) -> JobList:
        params = {
            "status": status,
            "operation": operation,
            "service_name": service_name,
            "limit": limit,
            "page_token": page_token,
        }
        return await self._t.call("GET", "/api/v1/jobs", f"{JOBS}:JobList", params=params)

    async def get(self, job_id: str) -> Job:
        return await self._t.call("GET", f"/api/v1/jobs/{_p(job_id)}", f"{JOBS}:Job")

    async def logs(self, job_id: str) -> JobLogs:
        return await self._t.call("GET", f"/api/v1/jobs/{_p(job_id)}/logs", f"{JOBS}:JobLogs")

    async def cancel(self, job_id: str, *, comment: str | None = None) -> CancelResponse:
        return await self._t.call(
            "POST",
            f"/api/v1/jobs/{_p(job_id)}/cancel",
            f"{JOBS}:CancelResponse",
            json=body_of({"comment": comment}),
        )

    async def force_cancel(self, job_id: str, *, comment: str | None = None) -> JobControlResponse:
        return await self._t.call(
            "POST",
            f"/api/v1/jobs/{_p(job_id)}/force-cancel",
            f"{JOBS}:JobControlResponse",
            json=body_of({"comment": comment}),
        )

    async def retry(
        self, job_id: str, *, fresh: bool = False, comment: str | None = None
    ) -> JobControlResponse:
        return await self._t.call(
            "POST",
            f"/api/v1/jobs/{_p(job_id)}/retry",
            f"{JOBS}:JobControlResponse",
            json=body_of({"comment": comment, "fresh": fresh or None}),
        )

    async def rollback(self, job_id: str, *, comment: str | None = None) -> JobControlResponse:
        return await self._t.call(
            "POST",
            f"/api/v1/jobs/{_p(job_id)}/rollback",
            f"{JOBS}:JobControlResponse",
            json=body_of({"comment": comment}),
        )

    async def wait(
        self,
        job_id: str,
        timeout: float | None = None,
        *,
        interval: float = 1.0,
        until: frozenset[str] = SETTLED,
    ) -> Job:
        """The job once its status is one of `until` (by default completed, failed, cancelled or
        needs_attention: a held job waits for a person). Raises `JobWaitTimeout` after `timeout`
        seconds (None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = await self.get(job_id)
            if job.status in until:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise JobWaitTimeout(job_id, timeout or 0.0, job)
            await asyncio.sleep(interval)

    async def follow(
        self,
        job_id: str,
        *,
        interval: float = 1.0,
        timeout: float | None = None,
        until: frozenset[str] = SETTLED,
    ) -> AsyncIterator[JobUpdate]:
        """The job and its new log lines, once per `interval`, ending with the update in which the
        job's status is one of `until`.

        Polls `GET /jobs/{id}` then `GET /jobs/{id}/logs` (the `read` scope is enough): the logs are
        read after the status, so the last update holds every line. The hosting scope's SSE stream
        (`Hosting.log_stream`) is not used here: it carries lines only once the API has recorded
        them, and says nothing about the job's end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = 0
        while True:
            job = await self.get(job_id)
            logs = await self.logs(job_id)
            lines = new_lines(logs, seen)
            missed = max(0, logs.total - seen - len(lines))
            seen = max(seen, logs.total)
            yield JobUpdate(job=job, lines=lines, missed=missed)
            if job.status in until:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise JobWaitTimeout(job_id, timeout or 0.0, job)
            await asyncio.sleep(interval)

    async def follow_logs(
        self, job_id: str, *, interval: float = 1.0, timeout: float | None = None
    ) -> AsyncIterator[str]:
        """The job's log lines as they arrive (`[ISO-timestamp] message`), until it settles."""
        async for update in self.follow(job_id, interval=interval, timeout=timeout):
            for line in update.lines:
                yield line


class AsyncServices(_AsyncResource):
    """`/api/v1/services`: Cloud Run services; deploy, update and delete start jobs."""

    async def list(
        self,
        *,
        status: str | None = None,
        type: str | None = None,
        category: str | None = None,
        customer: str | None = None,
        region: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> ServiceList:
        params = {
            "status": status,
            "type": type,
            "category": category,
            "customer": customer,
            "region": region,
            "limit": limit,
            "offset": offset,
        }
        return await self._t.call(
            "GET", "/api/v1/services", f"{SERVICES}:ServiceList", params=params
        )

    async def get(self, name: str) -> ServiceInfo:
        return await self._t.call("GET", f"/api/v1/services/{_p(name)}", f"{SERVICES}:ServiceInfo")

    async def details(self, name: str) -> ServiceDetails:
        return await self._t.call(
            "GET", f"/api/v1/services/{_p(name)}/details", f"{SERVICES}:ServiceDetails"
        )

    async def status(self, name: str) -> ServiceStatus:
        return await self._t.call(
            "GET", f"/api/v1/services/{_p(name)}/status", f"{SERVICES}:ServiceStatus"
        )

    async def logs(self, name: str, **params: Any) -> ServiceLogs:
        return await self._t.call(
            "GET", f"/api/v1/services/{_p(name)}/logs", f"{SERVICES}:ServiceLogs", params=params
        )

    async def deploy(
        self,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
        plan_hash: str | None = None,
    ) -> JobResponse:
        """`body`: a `ServiceDeployRequest` or its JSON shape (`service_name`, `image`, …);
        `plan_hash`: apply only if the service still matches that plan."""
        return await self._t.call(
            "POST",
            "/api/v1/services/deploy",
            f"{JOBS}:JobResponse",
            json=body_of(body),
            params={"plan_hash": plan_hash},
            headers=_job_headers(on_failure, idempotency_key),
        )

    async def plan(self, body: Body, *, update: bool = False) -> ServicePlan:
        """What a deploy (or, with `update`, an update) of `body` would change; starts nothing."""
        payload = body_of(body)
        if update:
            path = f"/api/v1/services/{_p(payload['service_name'])}"
            return await self._t.call(
                "PUT", path, f"{SERVICES}:ServicePlan", json=payload, params={"dry_run": "true"}
            )
        return await self._t.call(
            "POST",
            "/api/v1/services/deploy",
            f"{SERVICES}:ServicePlan",
            json=payload,
            params={"dry_run": "true"},
        )

    async def update(
        self,
        name: str,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
        plan_hash: str | None = None,
    ) -> JobResponse:
        """`body`: a `ServiceUpdateRequest` or its JSON shape; unset fields keep their values."""
        payload = {"service_name": name, **body_of(body)}
        return await self._t.call(
            "PUT",
            f"/api/v1/services/{_p(name)}",
            f"{JOBS}:JobResponse",
            json=payload,
            params={"plan_hash": plan_hash},
            headers=_job_headers(on_failure, idempotency_key),
        )

    async def delete(
        self,
        name: str,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse:
        return await self._t.call(
            "DELETE",
            f"/api/v1/services/{_p(name)}",
            f"{JOBS}:JobResponse",
            headers=_job_headers(on_failure, idempotency_key),
        )

    async def force_delete(self, name: str) -> None:
        await self._t.call("DELETE", f"/api/v1/services/{_p(name)}/force", None)

    async def reconcile(
        self,
        name: str,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse:
        """Puts back the configuration the platform last applied (a `ReconcileService` job)."""
        return await self._t.call(
            "POST",
            f"/api/v1/services/{_p(name)}/reconcile",
            f"{JOBS}:JobResponse",
            headers=_job_headers(on_failure, idempotency_key),
        )

    async def setup_image_build(
        self,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> ImageBuildJobResponse:
        """`body`: an `ImageBuildRequest` or its JSON shape (`github_repo`, `image_name`, …)."""
        return await self._t.call(
            "POST",
            "/api/v1/services/setup-image-build",
            "api.schemas.provisioning.image_builds:ImageBuildJobResponse",
            json=body_of(body),
            headers=_job_headers(on_failure, idempotency_key),
        )


class AsyncSecrets(_AsyncResource):
    """`/api/v1/secrets`: values go in, and come out only through `value()` (`secrets` scope)."""

    async def list(self, **params: Any) -> list[SecretResponse]:
        return await self._t.call(
            "GET", "/api/v1/secrets", f"list[{SECRETS}:SecretResponse]", params=params
        )

    async def get(self, name: str) -> SecretResponse:
        return await self._t.call("GET", f"/api/v1/secrets/{_p(name)}", f"{SECRETS}:SecretResponse")

    async def value(self, name: str) -> SecretValueResponse:
        return await self._t.call(
            "GET", f"/api/v1/secrets/{_p(name)}/value", f"{SECRETS}:SecretValueResponse"
        )

    async def audit(self, name: str) -> list[SecretAuditEntry]:
        return await self._t.call(
            "GET", f"/api/v1/secrets/{_p(name)}/audit", f"list[{SECRETS}:SecretAuditEntry]"
        )

    async def create(self, body: Body) -> SecretResponse:
        """`body`: a `SecretCreateRequest` or its JSON shape (`scope`, `key`, `value`, …)."""
        return await self._t.call(
            "POST", "/api/v1/secrets", f"{SECRETS}:SecretResponse", json=body_of(body)
        )

    async def update(self, name: str, body: Body) -> SecretResponse:
        return await self._t.call(
            "PUT", f"/api/v1/secrets/{_p(name)}", f"{SECRETS}:SecretResponse", json=body_of(body)
        )

    async def delete(self, name: str) -> None:
        await self._t.call("DELETE", f"/api/v1/secrets/{_p(name)}", None)


class AsyncCustomers(_AsyncResource):
    """`/api/v1/customers`: create starts an onboarding job, delete an offboarding one."""

    async def list(self, **params: Any) -> list[CustomerResponse]:
        return await self._t.call(
            "GET", "/api/v1/customers", f"list[{CUSTOMERS}:CustomerResponse]", params=params
        )

    async def get(self, customer_id: str) -> CustomerResponse:
        return await self._t.call(
            "GET", f"/api/v1/customers/{_p(customer_id)}", f"{CUSTOMERS}:CustomerResponse"
        )

    async def by_prefix(self, prefix: str) -> CustomerResponse:
        return await self._t.call(
            "GET", f"/api/v1/customers/prefix/{_p(prefix)}", f"{CUSTOMERS}:CustomerResponse"
        )

    async def create(
        self,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> CustomerCreated:
        return await self._t.call(
            "POST",
            "/api/v1/customers",
            f"{CUSTOMERS}:CustomerCreated",
            json=body_of(body),
            headers=_job_headers(on_failure, idempotency_key),
        )

    async def update(self, customer_id: str, body: Body) -> CustomerResponse:
        return await self._t.call(
            "PUT",
            f"/api/v1/customers/{_p(customer_id)}",
            f"{CUSTOMERS}:CustomerResponse",
            json=body_of(body),
        )

    async def delete(
        self,
        customer_id: str,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse | None:
        """The offboarding job (202), or None when there was nothing to offboard (204)."""
        return await self._t.call(
            "DELETE",
            f"/api/v1/customers/{_p(customer_id)}",
            f"{JOBS}:JobResponse",
            headers=_job_headers(on_failure, idempotency_key),
        )

    async def portal(self, customer_id: str) -> CustomerPortal:
        return await self._t.call(
            "GET", f"/api/v1/customers/{_p(customer_id)}/portal", f"{CUSTOMERS}:CustomerPortal"
        )

    async def services(self, customer_id: str) -> CustomerServices:
        return await self._t.call(
            "GET",
            f"/api/v1/customers/{_p(customer_id)}/services",
            f"{CUSTOMERS}:CustomerServices",
        )


class AsyncAgents(_AsyncResource):
    """`/api/v1/agents`: deploy and retire are jobs."""

    async def prompts(self) -> list[PromptInfo]:
        return await self._t.call("GET", "/api/v1/agents/prompts", f"list[{AGENTS}:PromptInfo]")

    async def get(self, service_name: str) -> AgentResponse:
        return await self._t.call(
            "GET", f"/api/v1/agents/{_p(service_name)}", f"{AGENTS}:AgentResponse"
        )

    async def deploy(
        self,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse:
        return await self._t.call(
            "POST",
            "/api/v1/agents/deploy",
            f"{JOBS}:JobResponse",
            json=body_of(body),
            headers=_job_headers(on_failure, idempotency_key),
        )

    async def delete(
        self,
        service_name: str,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse | None:
        """The retirement job (202), or None when nothing was left to retire (204)."""
        return await self._t.call(
            "DELETE",
            f"/api/v1/agents/{_p(service_name)}",
            f"{JOBS}:JobResponse",
            headers=_job_headers(on_failure, idempotency_key),
        )


class AsyncRunners(_AsyncResource):
    """`/api/v1/runners` (the `runners` scope): a runner's id is its job's id."""

    async def list(self) -> list[RunnerStatus]:
        return await self._t.call("GET", "/api/v1/runners", f"list[{RUNNERS}:RunnerStatus]")

    async def get(self, runner_id: str) -> RunnerStatus:
        return await self._t.call(
            "GET", f"/api/v1/runners/{_p(runner_id)}", f"{RUNNERS}:RunnerStatus"
        )

    async def create(
        self,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> RunnersCreated:
        return await self._t.call(
            "POST",
            "/api/v1/runners",
            f"{RUNNERS}:RunnersCreated",
            json=body_of(body),
            headers=_job_headers(on_failure, idempotency_key),
        )

    async def delete(self, runner_id: str) -> RunnerDestroyed:
        return await self._t.call(
            "DELETE", f"/api/v1/runners/{_p(runner_id)}", f"{RUNNERS}:RunnerDestroyed"
        )

    async def cleanup(self) -> CleanupReport:
        return await self._t.call("POST", "/api/v1/runners/cleanup", f"{RUNNERS}:CleanupReport")


class AsyncExternalServices(_AsyncResource):
    """`/api/v1/external-services`: databases and APIs the platform checks and operates."""

    async def list(self, **params: Any) -> list[ExternalServiceSummary]:
        return await self._t.call(
            "GET",
            "/api/v1/external-services",
            f"list[{EXTERNAL}:ExternalServiceSummary]",
            params=params,
        )

    async def get(self, service_id: str) -> ExternalServiceResponse:
        return await self._t.call(
            "GET",
            f"/api/v1/external-services/{_p(service_id)}",
            f"{EXTERNAL}:ExternalServiceResponse",
        )

    async def by_name(self, name: str) -> ExternalServiceResponse:
        return await self._t.call(
            "GET",
            f"/api/v1/external-services/name/{_p(name)}",
            f"{EXTERNAL}:ExternalServiceResponse",
        )

    async def create(self, body: Body) -> ExternalServiceCreated:
        return await self._t.call(
            "POST",
            "/api/v1/external-services",
            f"{EXTERNAL}:ExternalServiceCreated",
            json=body_of(body),
        )

    async def update(self, service_id: str, body: Body) -> ExternalServiceResponse:
        return await self._t.call(
            "PUT",
            f"/api/v1/external-services/{_p(service_id)}",
            f"{EXTERNAL}:ExternalServiceResponse",
            json=body_of(body),
        )

    async def delete(self, service_id: str) -> None:
        await self._t.call("DELETE", f"/api/v1/external-services/{_p(service_id)}", None)

    async def details(self, service_id: str) -> ExternalServiceDetails:
        return await self._t.call(
            "GET",
            f"/api/v1/external-services/{_p(service_id)}/details",
            f"{EXTERNAL}:ExternalServiceDetails",
        )

    async def health(self, service_id: str) -> dict[str, Any]:
        return await self._t.call(
            "POST", f"/api/v1/external-services/{_p(service_id)}/health", "dict"
        )

    async def operation(
        self, service_id: str, operation: str, params: Mapping[str, Any] | None = None
    ) -> OperationResult:
        return await self._t.call(
            "POST",
            f"/api/v1/external-services/{_p(service_id)}/operations/{_p(operation)}",
            f"{EXTERNAL}:OperationResult",
            json={"params": dict(params or {})},
        )

    async def create_database(
        self,
        service_id: str,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse:
        return await self._t.call(
            "POST",
            f"/api/v1/external-services/{_p(service_id)}/create_service_database",
            f"{JOBS}:JobResponse",
            json=body_of(body),
            headers=_job_headers(on_failure, idempotency_key),
        )


class AsyncCrmAccounts(_AsyncResource):
    """`/api/v1/admin/accounts` (the `crm` scope): CRM accounts."""

    async def list(self, **params: Any) -> Page:
        return await self._t.call(
            "GET", "/api/v1/admin/accounts", f"{CRM}:Page[AccountResponse]", params=params
        )

    async def get(self, account_id: str) -> AccountResponse:
        return await self._t.call(
            "GET", f"/api/v1/admin/accounts/{_p(account_id)}", f"{CRM}:AccountResponse"
        )

    async def create(self, body: Body) -> AccountResponse:
        return await self._t.call(
            "POST", "/api/v1/admin/accounts", f"{CRM}:AccountResponse", json=body_of(body)
        )

    async def update(self, account_id: str, body: Body) -> AccountResponse:
        return await self._t.call(
            "PUT",
            f"/api/v1/admin/accounts/{_p(account_id)}",
            f"{CRM}:AccountResponse",
            json=body_of(body),
        )

    async def delete(self, account_id: str) -> None:
        await self._t.call("DELETE", f"/api/v1/admin/accounts/{_p(account_id)}", None)

    async def toggle_auto_create(self, account_id: str) -> AccountResponse:
        return await self._t.call(
            "PATCH",
            f"/api/v1/admin/accounts/{_p(account_id)}/toggle-auto-create",
            f"{CRM}:AccountResponse",
        )

    async def rotate_key(self, account_id: str) -> AccountResponse:
        return await self._t.call(
            "POST", f"/api/v1/admin/accounts/{_p(account_id)}/rotate-key", f"{CRM}:AccountResponse"
        )


class AsyncHosting(_AsyncResource):
    """The hosting system's root endpoints (seed 001): `/`, `/heartbeat`, `/protected`,
    `/service-types`, `/users`, `/logs/stream`."""

    async def welcome(self) -> Welcome:
        return await self._t.call("GET", "/", f"{HOSTING}.info:Welcome")

    async def heartbeat(self) -> Heartbeat:
        return await self._t.call("GET", "/heartbeat", f"{HOSTING}.info:Heartbeat")

    async def protected(self) -> Protected:
        """Tests the key: its name and scopes."""
        return await self._t.call("GET", "/protected", f"{HOSTING}.info:Protected")

    async def service_types(self) -> list[str]:
        return await self._t.call("GET", "/service-types", "list[str]")

    async def create_user(self, userid: str, username: str) -> HostingUser:
        return await self._t.call(
            "POST",
            "/users",
            f"{HOSTING}.users:HostingUser",
            data={"userid": userid, "username": username},
        )

    async def get_user(self, userid: str) -> UserDetail:
        return await self._t.call("GET", f"/users/{_p(userid)}", f"{HOSTING}.users:UserDetail")

    async def log_stream(
        self, *, job_id: str | None = None, last_event_id: str | None = None
    ) -> AsyncIterator[LogEvent]:
        """`GET /logs/stream` (SSE, the `hosting` scope): every job log line recorded from now, or
        after `last_event_id`; a dropped connection is resumed from the last event seen. Endless:
        stop iterating to end it."""
        while True:
            headers = {"Accept": "text/event-stream"}
            if last_event_id is not None:
                headers["Last-Event-ID"] = last_event_id
            params = {"job_id": job_id} if job_id else None
            try:
                async with self._t.http.stream(
                    "GET", "/logs/stream", params=params, headers=headers, timeout=None
                ) as response:
                    if not response.is_success:
                        await response.aread()
                        raise ConneSkillsError.from_response(response)
                    events = SseParser()
                    async for line in response.aiter_lines():
                        event = events.feed(line)
                        if event is not None:
                            last_event_id = event.id or last_event_id
                            yield event
            except (httpx.RemoteProtocolError, httpx.ReadError):
                await asyncio.sleep(1.0)


class AsyncClient:
    """The ConneSkills Platform's REST API, asynchronously:

        async with AsyncClient("http://127.0.0.1:8000", api_key=key) as client:
            job = await client.services.deploy({"service_name": "hello", "image": IMAGE})
            async for line in client.jobs.follow_logs(job.job_id):
                print(line)

    429 and 503 answers are retried after their `Retry-After` (see `RetryPolicy`); any other
    refusal raises `ConneSkillsError` with the API's code, message and details."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._transport = AsyncTransport(
            base_url, api_key, timeout=timeout, retry=retry or RetryPolicy(), transport=transport
        )
        self.jobs = AsyncJobs(self._transport)
        self.services = AsyncServices(self._transport)
        self.secrets = AsyncSecrets(self._transport)
        self.customers = AsyncCustomers(self._transport)
        self.agents = AsyncAgents(self._transport)
        self.runners = AsyncRunners(self._transport)
        self.external_services = AsyncExternalServices(self._transport)
        self.crm_accounts = AsyncCrmAccounts(self._transport)
        self.hosting = AsyncHosting(self._transport)

    async def health(self) -> dict[str, Any]:
        return await self._transport.call("GET", "/health", "dict")

    async def api_keys(self) -> list[ApiKeyInfo]:
        return await self._transport.call(
            "GET", "/api/v1/api-keys", "list[api.schemas.api_keys:ApiKeyInfo]"
        )

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any other endpoint: the decoded JSON answer (None for an empty one), errors as
        `ConneSkillsError`."""
        response = await self._transport.request(method, path, **kwargs)
        return json.loads(response.content) if response.content else None

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
