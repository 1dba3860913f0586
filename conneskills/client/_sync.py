"""The synchronous client: `Client` and its resources. Generated from `_async.py` by
`python -m conneskills.client._unasync`: edit `_async.py`, never this file.

Models are the API's own (`api/schemas/...`), imported when a call first needs them (see
`conneskills/client/models.py`): the types are the API's, never a copy, and a program that only
reads jobs pays only for the job models.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from typing import TYPE_CHECKING, Any, TypedDict, Unpack
from urllib.parse import quote

import httpx

from conneskills.client.errors import ConneSkillsError, JobWaitTimeout
from conneskills.client.models import (
    SETTLED,
    JobUpdate,
    LogEvent,
    OnFailure,
    SseEvent,
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
    from api.schemas.hosting.services import ServiceDetail as DockerServiceDetail
    from api.schemas.hosting.services import ServiceJob
    from api.schemas.hosting.users import HostingUser, UserDetail, UserService, UserVm
    from api.schemas.hosting.vms import VmConsole, VmDetail, VmJob
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
# How long one `jobs.wait` request asks the API to hold its answer (the API allows up to 30 s).
WAIT_HOLD_SECONDS = 20.0
SERVICES = "api.schemas.provisioning.services"
SECRETS = "api.schemas.provisioning.secrets"
CUSTOMERS = "api.schemas.provisioning.customers"
AGENTS = "api.schemas.provisioning.agents"
EXTERNAL = "api.schemas.provisioning.external_services"
RUNNERS = "api.schemas.runners.runners"
CRM = "api.schemas.crm.admin"
HOSTING = "api.schemas.hosting"


JOB_STARTED = f"{JOBS}:JobResponse"
JOB_CONTROL = f"{JOBS}:JobControlResponse"
PLAN = f"{SERVICES}:ServicePlan"
ACCOUNT = f"{CRM}:AccountResponse"
USER_DETAIL = f"{HOSTING}.users:UserDetail"
VM_JOB = f"{HOSTING}.vms:VmJob"
SERVICE_JOB = f"{HOSTING}.services:ServiceJob"


def _p(segment: object) -> str:
    """A path segment, quoted: a name can never step into another path."""
    return quote(str(segment), safe="")


class JobOptions(TypedDict, total=False):
    """What every job-starting call takes: `on_failure` ("hold": a step's final failure holds the
    job for a person; "rollback", the default) and an `idempotency_key` (else a fresh one)."""

    on_failure: OnFailure | None
    idempotency_key: str | None


def _job_headers(on_failure: OnFailure | None = None, idempotency_key: str | None = None) -> dict:
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
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        params = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            try:
                response = self.http.request(
                    method,
                    path,
                    params=params,
                    json=json,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
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
    """One part of the API, under `_base`: a method names its path's segments below the base
    (each quoted), its answer's model reference (None: no body) and what it sends."""

    _base = ""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _call(
        self,
        method: str,
        model: str | None,
        *segments: object,
        body: Body | None = None,
        params: Mapping[str, Any] | None = None,
        form: Mapping[str, Any] | None = None,
        files: Any = None,
        job: JobOptions | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> Any:
        """`body`: JSON (a mapping or the API's request model); `form`/`files`: a form (multipart
        with `files`); `job`: the call starts a job (its Idempotency-Key and failure mode)."""
        return self._t.call(
            method,
            self._path(*segments),
            model,
            params=params,
            json=None if body is None else body_of(body),
            data=None if form is None else {k: v for k, v in form.items() if v is not None},
            files=files,
            headers=None if job is None else _job_headers(**job),
            timeout=timeout,
        )

    def _path(self, *segments: object) -> str:
        return "/".join([self._base, *(_p(s) for s in segments)]) or "/"

    def _get(self, model: str, *segments: object, **params: Any) -> Any:
        return self._call("GET", model, *segments, params=params)

    def _sse(
        self,
        method: str,
        path: str,
        *,
        last_event_id: str | None = None,
        opened: Callable[[httpx.Response], None] | None = None,
        **kwargs: Any,
    ) -> Iterator[SseEvent]:
        """A Server-Sent Events answer, event by event, until the server ends it (no read timeout:
        the server's keep-alives hold it open). `opened` sees the response's headers first."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        with self._t.http.stream(
            method, path, headers=headers, timeout=httpx.Timeout(30.0, read=None), **kwargs
        ) as response:
            if not response.is_success:
                response.read()
                raise ConneSkillsError.from_response(response)
            if opened is not None:
                opened(response)
            events = SseParser()
            for line in response.iter_lines():
                event = events.feed(line)
                if event is not None:
                    yield event


class Jobs(_Resource):
    """`/api/v1/jobs`: read, follow and control jobs."""

    _base = "/api/v1/jobs"

    def list(
        self,
        *,
        status: str | None = None,
        operation: str | None = None,
        service_name: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
    ) -> JobList:
        return self._get(
            f"{JOBS}:JobList",
            status=status,
            operation=operation,
            service_name=service_name,
            limit=limit,
            page_token=page_token,
        )

    def get(self, job_id: str, *, wait: float | None = None) -> Job:
        """The job. With `wait` (seconds, at most 30) the API holds its answer until the job has
        settled (completed, failed, cancelled or needs_attention) or that time is up; the read
        timeout is the client's plus the wait."""
        if not wait:
            return self._get(f"{JOBS}:Job", job_id)
        configured = self._t.http.timeout
        held = httpx.Timeout(
            configured.connect,
            read=None if configured.read is None else configured.read + wait,
            write=configured.write,
            pool=configured.pool,
        )
        return self._call("GET", f"{JOBS}:Job", job_id, params={"wait": wait}, timeout=held)

    def logs(self, job_id: str) -> JobLogs:
        return self._get(f"{JOBS}:JobLogs", job_id, "logs")

    def cancel(self, job_id: str, *, comment: str | None = None) -> CancelResponse:
        return self._control(job_id, "cancel", f"{JOBS}:CancelResponse", comment=comment)

    def force_cancel(self, job_id: str, *, comment: str | None = None) -> JobControlResponse:
        return self._control(job_id, "force-cancel", JOB_CONTROL, comment=comment)

    def retry(
        self, job_id: str, *, fresh: bool = False, comment: str | None = None
    ) -> JobControlResponse:
        return self._control(job_id, "retry", JOB_CONTROL, comment=comment, fresh=fresh or None)

    def rollback(self, job_id: str, *, comment: str | None = None) -> JobControlResponse:
        return self._control(job_id, "rollback", JOB_CONTROL, comment=comment)

    def _control(self, job_id: str, action: str, model: str, **body: Any) -> Any:
        return self._call("POST", model, job_id, action, body=body)

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
        seconds (None: no limit). Statuses the API can hold an answer for (SETTLED) are waited for
        by `get(wait=…)`, a request per WAIT_HOLD_SECONDS; others are polled every `interval`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        held = until <= SETTLED
        while True:
            left = WAIT_HOLD_SECONDS if deadline is None else deadline - time.monotonic()
            hold = min(WAIT_HOLD_SECONDS, max(left, 0.0)) if held else 0.0
            asked = time.monotonic()
            job = self.get(job_id, wait=hold or None)
            if job.status in until:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise JobWaitTimeout(job_id, timeout or 0.0, job)
            # Settled in a status not asked for, or answered before the hold was up by an API
            # that does not hold answers: the next ask is `interval` later.
            if not hold or job.status in SETTLED or time.monotonic() - asked < hold / 2:
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

    _base = "/api/v1/services"

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
        return self._get(
            f"{SERVICES}:ServiceList",
            status=status,
            type=type,
            category=category,
            customer=customer,
            region=region,
            limit=limit,
            offset=offset,
        )

    def get(self, name: str) -> ServiceInfo:
        return self._get(f"{SERVICES}:ServiceInfo", name)

    def details(self, name: str) -> ServiceDetails:
        return self._get(f"{SERVICES}:ServiceDetails", name, "details")

    def status(self, name: str) -> ServiceStatus:
        return self._get(f"{SERVICES}:ServiceStatus", name, "status")

    def logs(self, name: str, **params: Any) -> ServiceLogs:
        return self._get(f"{SERVICES}:ServiceLogs", name, "logs", **params)

    def deploy(
        self, body: Body, *, plan_hash: str | None = None, **job: Unpack[JobOptions]
    ) -> JobResponse:
        """`body`: a `ServiceDeployRequest` or its JSON shape (`service_name`, `image`, …);
        `plan_hash`: apply only if the service still matches that plan."""
        params = {"plan_hash": plan_hash}
        return self._call("POST", JOB_STARTED, "deploy", body=body, params=params, job=job)

    def plan(self, body: Body, *, update: bool = False) -> ServicePlan:
        """What a deploy (or, with `update`, an update) of `body` would change; starts nothing."""
        payload = body_of(body)
        method, where = ("PUT", payload["service_name"]) if update else ("POST", "deploy")
        dry_run = {"dry_run": "true"}
        return self._call(method, PLAN, where, body=payload, params=dry_run)

    def update(
        self, name: str, body: Body, *, plan_hash: str | None = None, **job: Unpack[JobOptions]
    ) -> JobResponse:
        """`body`: a `ServiceUpdateRequest` or its JSON shape; unset fields keep their values."""
        payload = {"service_name": name, **body_of(body)}
        params = {"plan_hash": plan_hash}
        return self._call("PUT", JOB_STARTED, name, body=payload, params=params, job=job)

    def delete(self, name: str, **job: Unpack[JobOptions]) -> JobResponse:
        return self._call("DELETE", JOB_STARTED, name, job=job)

    def force_delete(self, name: str) -> None:
        self._call("DELETE", None, name, "force")

    def reconcile(self, name: str, **job: Unpack[JobOptions]) -> JobResponse:
        """Puts back the configuration the platform last applied (a `ReconcileService` job)."""
        return self._call("POST", JOB_STARTED, name, "reconcile", job=job)

    def setup_image_build(self, body: Body, **job: Unpack[JobOptions]) -> ImageBuildJobResponse:
        """`body`: an `ImageBuildRequest` or its JSON shape (`github_repo`, `image_name`, …)."""
        model = "api.schemas.provisioning.image_builds:ImageBuildJobResponse"
        return self._call("POST", model, "setup-image-build", body=body, job=job)


class Secrets(_Resource):
    """`/api/v1/secrets`: values go in, and come out only through `value()` (`secrets` scope)."""

    _base = "/api/v1/secrets"

    def list(self, **params: Any) -> list[SecretResponse]:
        return self._get(f"list[{SECRETS}:SecretResponse]", **params)

    def get(self, name: str) -> SecretResponse:
        return self._get(f"{SECRETS}:SecretResponse", name)

    def value(self, name: str) -> SecretValueResponse:
        return self._get(f"{SECRETS}:SecretValueResponse", name, "value")

    def audit(self, name: str) -> list[SecretAuditEntry]:
        return self._get(f"list[{SECRETS}:SecretAuditEntry]", name, "audit")

    def create(self, body: Body) -> SecretResponse:
        """`body`: a `SecretCreateRequest` or its JSON shape (`scope`, `key`, `value`, …)."""
        return self._call("POST", f"{SECRETS}:SecretResponse", body=body)

    def update(self, name: str, body: Body) -> SecretResponse:
        return self._call("PUT", f"{SECRETS}:SecretResponse", name, body=body)

    def delete(self, name: str) -> None:
        self._call("DELETE", None, name)


class Customers(_Resource):
    """`/api/v1/customers`: create starts an onboarding job, delete an offboarding one."""

    _base = "/api/v1/customers"

    def list(self, **params: Any) -> list[CustomerResponse]:
        return self._get(f"list[{CUSTOMERS}:CustomerResponse]", **params)

    def get(self, customer_id: str) -> CustomerResponse:
        return self._get(f"{CUSTOMERS}:CustomerResponse", customer_id)

    def by_prefix(self, prefix: str) -> CustomerResponse:
        return self._get(f"{CUSTOMERS}:CustomerResponse", "prefix", prefix)

    def create(self, body: Body, **job: Unpack[JobOptions]) -> CustomerCreated:
        return self._call("POST", f"{CUSTOMERS}:CustomerCreated", body=body, job=job)

    def update(self, customer_id: str, body: Body) -> CustomerResponse:
        return self._call("PUT", f"{CUSTOMERS}:CustomerResponse", customer_id, body=body)

    def delete(self, customer_id: str, **job: Unpack[JobOptions]) -> JobResponse | None:
        """The offboarding job (202), or None when there was nothing to offboard (204)."""
        return self._call("DELETE", JOB_STARTED, customer_id, job=job)

    def portal(self, customer_id: str) -> CustomerPortal:
        return self._get(f"{CUSTOMERS}:CustomerPortal", customer_id, "portal")

    def services(self, customer_id: str) -> CustomerServices:
        return self._get(f"{CUSTOMERS}:CustomerServices", customer_id, "services")


class Agents(_Resource):
    """`/api/v1/agents`: deploy and retire are jobs."""

    _base = "/api/v1/agents"

    def prompts(self) -> list[PromptInfo]:
        return self._get(f"list[{AGENTS}:PromptInfo]", "prompts")

    def get(self, service_name: str) -> AgentResponse:
        return self._get(f"{AGENTS}:AgentResponse", service_name)

    def deploy(self, body: Body, **job: Unpack[JobOptions]) -> JobResponse:
        return self._call("POST", JOB_STARTED, "deploy", body=body, job=job)

    def delete(self, service_name: str, **job: Unpack[JobOptions]) -> JobResponse | None:
        """The retirement job (202), or None when nothing was left to retire (204)."""
        return self._call("DELETE", JOB_STARTED, service_name, job=job)


class Runners(_Resource):
    """`/api/v1/runners` (the `runners` scope): a runner's id is its job's id."""

    _base = "/api/v1/runners"

    def list(self) -> list[RunnerStatus]:
        return self._get(f"list[{RUNNERS}:RunnerStatus]")

    def get(self, runner_id: str) -> RunnerStatus:
        return self._get(f"{RUNNERS}:RunnerStatus", runner_id)

    def create(self, body: Body, **job: Unpack[JobOptions]) -> RunnersCreated:
        return self._call("POST", f"{RUNNERS}:RunnersCreated", body=body, job=job)

    def delete(self, runner_id: str) -> RunnerDestroyed:
        return self._call("DELETE", f"{RUNNERS}:RunnerDestroyed", runner_id)

    def cleanup(self) -> CleanupReport:
        return self._call("POST", f"{RUNNERS}:CleanupReport", "cleanup")


class ExternalServices(_Resource):
    """`/api/v1/external-services`: databases and APIs the platform checks and operates."""

    _base = "/api/v1/external-services"

    def list(self, **params: Any) -> list[ExternalServiceSummary]:
        return self._get(f"list[{EXTERNAL}:ExternalServiceSummary]", **params)

    def get(self, service_id: str) -> ExternalServiceResponse:
        return self._get(f"{EXTERNAL}:ExternalServiceResponse", service_id)

    def by_name(self, name: str) -> ExternalServiceResponse:
        return self._get(f"{EXTERNAL}:ExternalServiceResponse", "name", name)

    def create(self, body: Body) -> ExternalServiceCreated:
        return self._call("POST", f"{EXTERNAL}:ExternalServiceCreated", body=body)

    def update(self, service_id: str, body: Body) -> ExternalServiceResponse:
        return self._call("PUT", f"{EXTERNAL}:ExternalServiceResponse", service_id, body=body)

    def delete(self, service_id: str) -> None:
        self._call("DELETE", None, service_id)

    def details(self, service_id: str) -> ExternalServiceDetails:
        return self._get(f"{EXTERNAL}:ExternalServiceDetails", service_id, "details")

    def health(self, service_id: str) -> dict[str, Any]:
        return self._call("POST", "dict", service_id, "health")

    def operation(
        self, service_id: str, operation: str, params: Mapping[str, Any] | None = None
    ) -> OperationResult:
        body = {"params": dict(params or {})}
        model = f"{EXTERNAL}:OperationResult"
        return self._call("POST", model, service_id, "operations", operation, body=body)

    def create_database(
        self, service_id: str, body: Body, **job: Unpack[JobOptions]
    ) -> JobResponse:
        where = (service_id, "create_service_database")
        return self._call("POST", JOB_STARTED, *where, body=body, job=job)


class CrmAccounts(_Resource):
    """`/api/v1/admin/accounts` (the `crm` scope): CRM accounts."""

    _base = "/api/v1/admin/accounts"

    def list(self, **params: Any) -> Page:
        return self._get(f"{CRM}:Page[AccountResponse]", **params)

    def get(self, account_id: str) -> AccountResponse:
        return self._get(ACCOUNT, account_id)

    def create(self, body: Body) -> AccountResponse:
        return self._call("POST", ACCOUNT, body=body)

    def update(self, account_id: str, body: Body) -> AccountResponse:
        return self._call("PUT", ACCOUNT, account_id, body=body)

    def delete(self, account_id: str) -> None:
        self._call("DELETE", None, account_id)

    def toggle_auto_create(self, account_id: str) -> AccountResponse:
        return self._call("PATCH", ACCOUNT, account_id, "toggle-auto-create")

    def rotate_key(self, account_id: str) -> AccountResponse:
        return self._call("POST", ACCOUNT, account_id, "rotate-key")


class Hosting(_Resource):
    """The hosting system's root endpoints (seed 001): `/`, `/heartbeat`, `/protected`,
    `/service-types`, `/users`, `/logs/stream`."""

    def welcome(self) -> Welcome:
        return self._get(f"{HOSTING}.info:Welcome")

    def heartbeat(self) -> Heartbeat:
        return self._get(f"{HOSTING}.info:Heartbeat", "heartbeat")

    def protected(self) -> Protected:
        """Tests the key: its name and scopes."""
        return self._get(f"{HOSTING}.info:Protected", "protected")

    def service_types(self) -> list[str]:
        return self._get("list[str]", "service-types")

    def create_user(self, userid: str, username: str) -> HostingUser:
        form = {"userid": userid, "username": username}
        return self._call("POST", f"{HOSTING}.users:HostingUser", "users", form=form)

    def get_user(self, userid: str) -> UserDetail:
        return self._get(USER_DETAIL, "users", userid)

    def log_stream(
        self, *, job_id: str | None = None, last_event_id: str | None = None
    ) -> Iterator[LogEvent]:
        """`GET /logs/stream` (SSE, the `hosting` scope): every job log line recorded from now, or
        after `last_event_id`; a dropped connection is resumed from the last event seen. Endless:
        stop iterating to end it."""
        params = {"job_id": job_id} if job_id else None
        while True:
            try:
                stream = self._sse(
                    "GET", "/logs/stream", last_event_id=last_event_id, params=params
                )
                with closing(stream) as events:
                    for event in events:
                        if event.event == "log":
                            last_event_id = event.id or last_event_id
                            yield LogEvent.of(event)
            except (httpx.RemoteProtocolError, httpx.ReadError):
                time.sleep(1.0)


class Vms(_Resource):
    """Seed 001's Proxmox VMs at the API's root (the `hosting` scope): a VM's id is its Proxmox
    VMID; create, update and control are jobs (`delete` is a DeleteVM job). Bodies are forms."""

    def list(self, userid: str) -> list[UserVm]:
        """A hosting user's VMs (the API lists VMs per user, in `GET /users/{userid}`)."""
        return (self._get(USER_DETAIL, "users", userid)).vms

    def get(self, vm_id: int) -> VmDetail:
        """The VM's row and Proxmox's live view of it."""
        return self._get(f"{HOSTING}.vms:VmDetail", "vm", vm_id)

    def create(self, body: Body, **job: Unpack[JobOptions]) -> VmJob:
        """`body`: a `VmCreate` or its fields (`userid`, `vm_name`, `os_type`, `cores`, …); the
        answer names the reserved VMID."""
        return self._call("POST", VM_JOB, "vm", form=body_of(body), job=job)

    def update(self, vm_id: int, body: Body, **job: Unpack[JobOptions]) -> VmJob:
        """`body`: a `VmUpdate` or its fields (`cores`, `memory`, `disksize`: only larger)."""
        return self._call("PUT", VM_JOB, "vm", "update", vm_id, form=body_of(body), job=job)

    def control(self, vm_id: int, action: str, **job: Unpack[JobOptions]) -> VmJob:
        """start, stop, shutdown, restart, reboot, pause, resume, or delete."""
        return self._call("POST", VM_JOB, "control-vm", vm_id, action, job=job)

    def delete(self, vm_id: int, **job: Unpack[JobOptions]) -> VmJob:
        return self.control(vm_id, "delete", **job)

    def connect(self, vm_id: int) -> VmConsole:
        """A noVNC console ticket, straight from Proxmox (a credential: give it to the console)."""
        return self._call("POST", f"{HOSTING}.vms:VmConsole", "vm", "connect", vm_id)


class DockerServices(_Resource):
    """Seed 001's Docker services at the API's root (the `hosting` scope): ids are integers;
    create and control are jobs (`delete` is a control action)."""

    def list(self, userid: str) -> list[UserService]:
        """A hosting user's services (the API lists them per user, in `GET /users/{userid}`)."""
        return (self._get(USER_DETAIL, "users", userid)).services

    def get(self, service_id: int) -> DockerServiceDetail:
        """The service, its containers' live state and its Compose file."""
        return self._get(f"{HOSTING}.services:ServiceDetail", "service", service_id)

    def create(
        self,
        body: Body,
        *,
        zip_file: str | os.PathLike[str] | bytes | None = None,
        **job: Unpack[JobOptions],
    ) -> ServiceJob:
        """`body`: the `ServiceCreateForm`'s fields (`userid`, `service_name`, `service_types`,
        `git_repo_url`, `admin_pass`, …); `zip_file`: the service's files, a ZIP's path or bytes
        (sent as the form streams, never read whole from a path)."""
        fields = [
            (name, (None, str(item)))
            for name, value in body_of(body).items()
            for item in (value if isinstance(value, list) else [value])
        ]
        if zip_file is None or isinstance(zip_file, bytes):
            return self._create(fields, zip_file, "service.zip", job)
        # Opening a local file is immediate; httpx reads it in chunks as the form is sent.
        with open(zip_file, "rb") as upload:  # noqa: ASYNC230
            return self._create(fields, upload, os.path.basename(zip_file), job)

    def _create(self, fields: list, archive: Any, name: str, job: JobOptions) -> ServiceJob:
        upload = [] if archive is None else [("zip_file", (name, archive, "application/zip"))]
        return self._call("POST", SERVICE_JOB, "service", files=fields + upload, job=job)

    def control(self, service_id: int, action: str, **job: Unpack[JobOptions]) -> ServiceJob:
        """start, shutdown (or stop), restart, or delete."""
        return self._call("POST", SERVICE_JOB, "control-service", service_id, action, job=job)

    def delete(self, service_id: int, **job: Unpack[JobOptions]) -> ServiceJob:
        return self.control(service_id, "delete", **job)


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
        self.vms = Vms(self._transport)
        self.docker_services = DockerServices(self._transport)

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
