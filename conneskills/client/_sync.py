"""The synchronous client: `Client` and its resources. Generated from `_async.py` by
`python -m conneskills.client._unasync`: edit `_async.py`, never this file.

Models are the API's own (`api/schemas/...`), imported when a call first needs them (see
`conneskills/client/models.py`): the types are the API's, never a copy, and a program that only
reads jobs pays only for the job models.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
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


class Transport:
    """HTTP to the API: the key header, the error envelope, and retries on 429/503."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float,
        retry: RetryPolicy,
        transport: httpx.BaseTransport | None,
    ) -> None:
        headers = {"User-Agent": "conneskills-client"}
        if api_key:
            headers["X-API-Key"] = api_key
        self.retry = retry
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def request(
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
                response = self.http.request(
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
            time.sleep(delay)

    def call(self, method: str, path: str, model: str | None, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if model is None or response.status_code == 204 or not response.content:
            return None
        return parse(model, response.json())

    def close(self) -> None:
        self.http.close()


class _Resource:
    def __init__(self, transport: Transport) -> None:
        self._t = transport


class Jobs(_Resource):
    """`/api/v1/jobs`: read, follow and control jobs."""

    def list(
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
        return self._t.call("GET", "/api/v1/jobs", f"{JOBS}:JobList", params=params)

    def get(self, job_id: str) -> Job:
        return self._t.call("GET", f"/api/v1/jobs/{_p(job_id)}", f"{JOBS}:Job")

    def logs(self, job_id: str) -> JobLogs:
        return self._t.call("GET", f"/api/v1/jobs/{_p(job_id)}/logs", f"{JOBS}:JobLogs")

    def cancel(self, job_id: str, *, comment: str | None = None) -> CancelResponse:
        return self._t.call(
            "POST",
            f"/api/v1/jobs/{_p(job_id)}/cancel",
            f"{JOBS}:CancelResponse",
            json=body_of({"comment": comment}),
        )

    def force_cancel(self, job_id: str, *, comment: str | None = None) -> JobControlResponse:
        return self._t.call(
            "POST",
            f"/api/v1/jobs/{_p(job_id)}/force-cancel",
            f"{JOBS}:JobControlResponse",
            json=body_of({"comment": comment}),
        )

    def retry(
        self, job_id: str, *, fresh: bool = False, comment: str | None = None
    ) -> JobControlResponse:
        return self._t.call(
            "POST",
            f"/api/v1/jobs/{_p(job_id)}/retry",
            f"{JOBS}:JobControlResponse",
            json=body_of({"comment": comment, "fresh": fresh or None}),
        )

    def rollback(self, job_id: str, *, comment: str | None = None) -> JobControlResponse:
        return self._t.call(
            "POST",
            f"/api/v1/jobs/{_p(job_id)}/rollback",
            f"{JOBS}:JobControlResponse",
            json=body_of({"comment": comment}),
        )

    def wait(
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
            job = self.get(job_id)
            if job.status in until:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise JobWaitTimeout(job_id, timeout or 0.0, job)
            time.sleep(interval)

    def follow(
        self,
        job_id: str,
        *,
        interval: float = 1.0,
        timeout: float | None = None,
        until: frozenset[str] = SETTLED,
    ) -> Iterator[JobUpdate]:
        """The job and its new log lines, once per `interval`, ending with the update in which the
        job's status is one of `until`.

        Polls `GET /jobs/{id}` then `GET /jobs/{id}/logs` (the `read` scope is enough): the logs are
        read after the status, so the last update holds every line. The hosting scope's SSE stream
        (`Hosting.log_stream`) is not used here: it carries lines only once the API has recorded
        them, and says nothing about the job's end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = 0
        while True:
            job = self.get(job_id)
            logs = self.logs(job_id)
            lines = new_lines(logs, seen)
            missed = max(0, logs.total - seen - len(lines))
            seen = max(seen, logs.total)
            yield JobUpdate(job=job, lines=lines, missed=missed)
            if job.status in until:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise JobWaitTimeout(job_id, timeout or 0.0, job)
            time.sleep(interval)

    def follow_logs(
        self, job_id: str, *, interval: float = 1.0, timeout: float | None = None
    ) -> Iterator[str]:
        """The job's log lines as they arrive (`[ISO-timestamp] message`), until it settles."""
        for update in self.follow(job_id, interval=interval, timeout=timeout):
            for line in update.lines:
                yield line


class Services(_Resource):
    """`/api/v1/services`: Cloud Run services; deploy, update and delete start jobs."""

    def list(
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
        return self._t.call("GET", "/api/v1/services", f"{SERVICES}:ServiceList", params=params)

    def get(self, name: str) -> ServiceInfo:
        return self._t.call("GET", f"/api/v1/services/{_p(name)}", f"{SERVICES}:ServiceInfo")

    def details(self, name: str) -> ServiceDetails:
        return self._t.call(
            "GET", f"/api/v1/services/{_p(name)}/details", f"{SERVICES}:ServiceDetails"
        )

    def status(self, name: str) -> ServiceStatus:
        return self._t.call(
            "GET", f"/api/v1/services/{_p(name)}/status", f"{SERVICES}:ServiceStatus"
        )

    def logs(self, name: str, **params: Any) -> ServiceLogs:
        return self._t.call(
            "GET", f"/api/v1/services/{_p(name)}/logs", f"{SERVICES}:ServiceLogs", params=params
        )

    def deploy(
        self,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
        plan_hash: str | None = None,
    ) -> JobResponse:
        """`body`: a `ServiceDeployRequest` or its JSON shape (`service_name`, `image`, …);
        `plan_hash`: apply only if the service still matches that plan."""
        return self._t.call(
            "POST",
            "/api/v1/services/deploy",
            f"{JOBS}:JobResponse",
            json=body_of(body),
            params={"plan_hash": plan_hash},
            headers=_job_headers(on_failure, idempotency_key),
        )

    def plan(self, body: Body, *, update: bool = False) -> ServicePlan:
        """What a deploy (or, with `update`, an update) of `body` would change; starts nothing."""
        payload = body_of(body)
        if update:
            path = f"/api/v1/services/{_p(payload['service_name'])}"
            return self._t.call(
                "PUT", path, f"{SERVICES}:ServicePlan", json=payload, params={"dry_run": "true"}
            )
        return self._t.call(
            "POST",
            "/api/v1/services/deploy",
            f"{SERVICES}:ServicePlan",
            json=payload,
            params={"dry_run": "true"},
        )

    def update(
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
        return self._t.call(
            "PUT",
            f"/api/v1/services/{_p(name)}",
            f"{JOBS}:JobResponse",
            json=payload,
            params={"plan_hash": plan_hash},
            headers=_job_headers(on_failure, idempotency_key),
        )

    def delete(
        self,
        name: str,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse:
        return self._t.call(
            "DELETE",
            f"/api/v1/services/{_p(name)}",
            f"{JOBS}:JobResponse",
            headers=_job_headers(on_failure, idempotency_key),
        )

    def force_delete(self, name: str) -> None:
        self._t.call("DELETE", f"/api/v1/services/{_p(name)}/force", None)

    def reconcile(
        self,
        name: str,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse:
        """Puts back the configuration the platform last applied (a `ReconcileService` job)."""
        return self._t.call(
            "POST",
            f"/api/v1/services/{_p(name)}/reconcile",
            f"{JOBS}:JobResponse",
            headers=_job_headers(on_failure, idempotency_key),
        )

    def setup_image_build(
        self,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> ImageBuildJobResponse:
        """`body`: an `ImageBuildRequest` or its JSON shape (`github_repo`, `image_name`, …)."""
        return self._t.call(
            "POST",
            "/api/v1/services/setup-image-build",
            "api.schemas.provisioning.image_builds:ImageBuildJobResponse",
            json=body_of(body),
            headers=_job_headers(on_failure, idempotency_key),
        )


class Secrets(_Resource):
    """`/api/v1/secrets`: values go in, and come out only through `value()` (`secrets` scope)."""

    def list(self, **params: Any) -> list[SecretResponse]:
        return self._t.call(
            "GET", "/api/v1/secrets", f"list[{SECRETS}:SecretResponse]", params=params
        )

    def get(self, name: str) -> SecretResponse:
        return self._t.call("GET", f"/api/v1/secrets/{_p(name)}", f"{SECRETS}:SecretResponse")

    def value(self, name: str) -> SecretValueResponse:
        return self._t.call(
            "GET", f"/api/v1/secrets/{_p(name)}/value", f"{SECRETS}:SecretValueResponse"
        )

    def audit(self, name: str) -> list[SecretAuditEntry]:
        return self._t.call(
            "GET", f"/api/v1/secrets/{_p(name)}/audit", f"list[{SECRETS}:SecretAuditEntry]"
        )

    def create(self, body: Body) -> SecretResponse:
        """`body`: a `SecretCreateRequest` or its JSON shape (`scope`, `key`, `value`, …)."""
        return self._t.call(
            "POST", "/api/v1/secrets", f"{SECRETS}:SecretResponse", json=body_of(body)
        )

    def update(self, name: str, body: Body) -> SecretResponse:
        return self._t.call(
            "PUT", f"/api/v1/secrets/{_p(name)}", f"{SECRETS}:SecretResponse", json=body_of(body)
        )

    def delete(self, name: str) -> None:
        self._t.call("DELETE", f"/api/v1/secrets/{_p(name)}", None)


class Customers(_Resource):
    """`/api/v1/customers`: create starts an onboarding job, delete an offboarding one."""

    def list(self, **params: Any) -> list[CustomerResponse]:
        return self._t.call(
            "GET", "/api/v1/customers", f"list[{CUSTOMERS}:CustomerResponse]", params=params
        )

    def get(self, customer_id: str) -> CustomerResponse:
        return self._t.call(
            "GET", f"/api/v1/customers/{_p(customer_id)}", f"{CUSTOMERS}:CustomerResponse"
        )

    def by_prefix(self, prefix: str) -> CustomerResponse:
        return self._t.call(
            "GET", f"/api/v1/customers/prefix/{_p(prefix)}", f"{CUSTOMERS}:CustomerResponse"
        )

    def create(
        self,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> CustomerCreated:
        return self._t.call(
            "POST",
            "/api/v1/customers",
            f"{CUSTOMERS}:CustomerCreated",
            json=body_of(body),
            headers=_job_headers(on_failure, idempotency_key),
        )

    def update(self, customer_id: str, body: Body) -> CustomerResponse:
        return self._t.call(
            "PUT",
            f"/api/v1/customers/{_p(customer_id)}",
            f"{CUSTOMERS}:CustomerResponse",
            json=body_of(body),
        )

    def delete(
        self,
        customer_id: str,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse | None:
        """The offboarding job (202), or None when there was nothing to offboard (204)."""
        return self._t.call(
            "DELETE",
            f"/api/v1/customers/{_p(customer_id)}",
            f"{JOBS}:JobResponse",
            headers=_job_headers(on_failure, idempotency_key),
        )

    def portal(self, customer_id: str) -> CustomerPortal:
        return self._t.call(
            "GET", f"/api/v1/customers/{_p(customer_id)}/portal", f"{CUSTOMERS}:CustomerPortal"
        )

    def services(self, customer_id: str) -> CustomerServices:
        return self._t.call(
            "GET",
            f"/api/v1/customers/{_p(customer_id)}/services",
            f"{CUSTOMERS}:CustomerServices",
        )


class Agents(_Resource):
    """`/api/v1/agents`: deploy and retire are jobs."""

    def prompts(self) -> list[PromptInfo]:
        return self._t.call("GET", "/api/v1/agents/prompts", f"list[{AGENTS}:PromptInfo]")

    def get(self, service_name: str) -> AgentResponse:
        return self._t.call("GET", f"/api/v1/agents/{_p(service_name)}", f"{AGENTS}:AgentResponse")

    def deploy(
        self,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse:
        return self._t.call(
            "POST",
            "/api/v1/agents/deploy",
            f"{JOBS}:JobResponse",
            json=body_of(body),
            headers=_job_headers(on_failure, idempotency_key),
        )

    def delete(
        self,
        service_name: str,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse | None:
        """The retirement job (202), or None when nothing was left to retire (204)."""
        return self._t.call(
            "DELETE",
            f"/api/v1/agents/{_p(service_name)}",
            f"{JOBS}:JobResponse",
            headers=_job_headers(on_failure, idempotency_key),
        )


class Runners(_Resource):
    """`/api/v1/runners` (the `runners` scope): a runner's id is its job's id."""

    def list(self) -> list[RunnerStatus]:
        return self._t.call("GET", "/api/v1/runners", f"list[{RUNNERS}:RunnerStatus]")

    def get(self, runner_id: str) -> RunnerStatus:
        return self._t.call("GET", f"/api/v1/runners/{_p(runner_id)}", f"{RUNNERS}:RunnerStatus")

    def create(
        self,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> RunnersCreated:
        return self._t.call(
            "POST",
            "/api/v1/runners",
            f"{RUNNERS}:RunnersCreated",
            json=body_of(body),
            headers=_job_headers(on_failure, idempotency_key),
        )

    def delete(self, runner_id: str) -> RunnerDestroyed:
        return self._t.call(
            "DELETE", f"/api/v1/runners/{_p(runner_id)}", f"{RUNNERS}:RunnerDestroyed"
        )

    def cleanup(self) -> CleanupReport:
        return self._t.call("POST", "/api/v1/runners/cleanup", f"{RUNNERS}:CleanupReport")


class ExternalServices(_Resource):
    """`/api/v1/external-services`: databases and APIs the platform checks and operates."""

    def list(self, **params: Any) -> list[ExternalServiceSummary]:
        return self._t.call(
            "GET",
            "/api/v1/external-services",
            f"list[{EXTERNAL}:ExternalServiceSummary]",
            params=params,
        )

    def get(self, service_id: str) -> ExternalServiceResponse:
        return self._t.call(
            "GET",
            f"/api/v1/external-services/{_p(service_id)}",
            f"{EXTERNAL}:ExternalServiceResponse",
        )

    def by_name(self, name: str) -> ExternalServiceResponse:
        return self._t.call(
            "GET",
            f"/api/v1/external-services/name/{_p(name)}",
            f"{EXTERNAL}:ExternalServiceResponse",
        )

    def create(self, body: Body) -> ExternalServiceCreated:
        return self._t.call(
            "POST",
            "/api/v1/external-services",
            f"{EXTERNAL}:ExternalServiceCreated",
            json=body_of(body),
        )

    def update(self, service_id: str, body: Body) -> ExternalServiceResponse:
        return self._t.call(
            "PUT",
            f"/api/v1/external-services/{_p(service_id)}",
            f"{EXTERNAL}:ExternalServiceResponse",
            json=body_of(body),
        )

    def delete(self, service_id: str) -> None:
        self._t.call("DELETE", f"/api/v1/external-services/{_p(service_id)}", None)

    def details(self, service_id: str) -> ExternalServiceDetails:
        return self._t.call(
            "GET",
            f"/api/v1/external-services/{_p(service_id)}/details",
            f"{EXTERNAL}:ExternalServiceDetails",
        )

    def health(self, service_id: str) -> dict[str, Any]:
        return self._t.call("POST", f"/api/v1/external-services/{_p(service_id)}/health", "dict")

    def operation(
        self, service_id: str, operation: str, params: Mapping[str, Any] | None = None
    ) -> OperationResult:
        return self._t.call(
            "POST",
            f"/api/v1/external-services/{_p(service_id)}/operations/{_p(operation)}",
            f"{EXTERNAL}:OperationResult",
            json={"params": dict(params or {})},
        )

    def create_database(
        self,
        service_id: str,
        body: Body,
        *,
        on_failure: OnFailure | None = None,
        idempotency_key: str | None = None,
    ) -> JobResponse:
        return self._t.call(
            "POST",
            f"/api/v1/external-services/{_p(service_id)}/create_service_database",
            f"{JOBS}:JobResponse",
            json=body_of(body),
            headers=_job_headers(on_failure, idempotency_key),
        )


class CrmAccounts(_Resource):
    """`/api/v1/admin/accounts` (the `crm` scope): CRM accounts."""

    def list(self, **params: Any) -> Page:
        return self._t.call(
            "GET", "/api/v1/admin/accounts", f"{CRM}:Page[AccountResponse]", params=params
        )

    def get(self, account_id: str) -> AccountResponse:
        return self._t.call(
            "GET", f"/api/v1/admin/accounts/{_p(account_id)}", f"{CRM}:AccountResponse"
        )

    def create(self, body: Body) -> AccountResponse:
        return self._t.call(
            "POST", "/api/v1/admin/accounts", f"{CRM}:AccountResponse", json=body_of(body)
        )

    def update(self, account_id: str, body: Body) -> AccountResponse:
        return self._t.call(
            "PUT",
            f"/api/v1/admin/accounts/{_p(account_id)}",
            f"{CRM}:AccountResponse",
            json=body_of(body),
        )

    def delete(self, account_id: str) -> None:
        self._t.call("DELETE", f"/api/v1/admin/accounts/{_p(account_id)}", None)

    def toggle_auto_create(self, account_id: str) -> AccountResponse:
        return self._t.call(
            "PATCH",
            f"/api/v1/admin/accounts/{_p(account_id)}/toggle-auto-create",
            f"{CRM}:AccountResponse",
        )

    def rotate_key(self, account_id: str) -> AccountResponse:
        return self._t.call(
            "POST", f"/api/v1/admin/accounts/{_p(account_id)}/rotate-key", f"{CRM}:AccountResponse"
        )


class Hosting(_Resource):
    """The hosting system's root endpoints (seed 001): `/`, `/heartbeat`, `/protected`,
    `/service-types`, `/users`, `/logs/stream`."""

    def welcome(self) -> Welcome:
        return self._t.call("GET", "/", f"{HOSTING}.info:Welcome")

    def heartbeat(self) -> Heartbeat:
        return self._t.call("GET", "/heartbeat", f"{HOSTING}.info:Heartbeat")

    def protected(self) -> Protected:
        """Tests the key: its name and scopes."""
        return self._t.call("GET", "/protected", f"{HOSTING}.info:Protected")

    def service_types(self) -> list[str]:
        return self._t.call("GET", "/service-types", "list[str]")

    def create_user(self, userid: str, username: str) -> HostingUser:
        return self._t.call(
            "POST",
            "/users",
            f"{HOSTING}.users:HostingUser",
            data={"userid": userid, "username": username},
        )

    def get_user(self, userid: str) -> UserDetail:
        return self._t.call("GET", f"/users/{_p(userid)}", f"{HOSTING}.users:UserDetail")

    def log_stream(
        self, *, job_id: str | None = None, last_event_id: str | None = None
    ) -> Iterator[LogEvent]:
        """`GET /logs/stream` (SSE, the `hosting` scope): every job log line recorded from now, or
        after `last_event_id`; a dropped connection is resumed from the last event seen. Endless:
        stop iterating to end it."""
        while True:
            headers = {"Accept": "text/event-stream"}
            if last_event_id is not None:
                headers["Last-Event-ID"] = last_event_id
            params = {"job_id": job_id} if job_id else None
            try:
                with self._t.http.stream(
                    "GET", "/logs/stream", params=params, headers=headers, timeout=None
                ) as response:
                    if not response.is_success:
                        response.read()
                        raise ConneSkillsError.from_response(response)
                    events = SseParser()
                    for line in response.iter_lines():
                        event = events.feed(line)
                        if event is not None:
                            last_event_id = event.id or last_event_id
                            yield event
            except (httpx.RemoteProtocolError, httpx.ReadError):
                time.sleep(1.0)


class Client:
    """The ConneSkills Platform's REST API, asynchronously:

        with Client("http://127.0.0.1:8000", api_key=key) as client:
            job = client.services.deploy({"service_name": "hello", "image": IMAGE})
            for line in client.jobs.follow_logs(job.job_id):
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
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._transport = Transport(
            base_url, api_key, timeout=timeout, retry=retry or RetryPolicy(), transport=transport
        )
        self.jobs = Jobs(self._transport)
        self.services = Services(self._transport)
        self.secrets = Secrets(self._transport)
        self.customers = Customers(self._transport)
        self.agents = Agents(self._transport)
        self.runners = Runners(self._transport)
        self.external_services = ExternalServices(self._transport)
        self.crm_accounts = CrmAccounts(self._transport)
        self.hosting = Hosting(self._transport)

    def health(self) -> dict[str, Any]:
        return self._transport.call("GET", "/health", "dict")

    def api_keys(self) -> list[ApiKeyInfo]:
        return self._transport.call(
            "GET", "/api/v1/api-keys", "list[api.schemas.api_keys:ApiKeyInfo]"
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any other endpoint: the decoded JSON answer (None for an empty one), errors as
        `ConneSkillsError`."""
        response = self._transport.request(method, path, **kwargs)
        return json.loads(response.content) if response.content else None

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
