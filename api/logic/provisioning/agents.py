"""Agents behind the router (seed 000 §4): the checks that answer before a job starts (customer
404, customer being offboarded or without a LiteLLM user 409, service 409, prompt 400), the agent
read joined from Cloud Run and the registry, and the retirement's bounded wait."""

from __future__ import annotations

import asyncio
import uuid

from google.cloud import run_v2
from temporalio.client import Client, WorkflowFailureError

from api.cloud import call_cloud
from api.errors import ApiError, not_found
from api.logic.provisioning.litellm_calls import call_litellm
from api.logic.provisioning.service_views import runtime_status
from api.schemas.provisioning.agents import AgentResponse, PromptInfo
from contracts.provisioning.agents import AGENT_LABEL, agent_secret_name, agent_service_name
from contracts.provisioning.drift import SERVICE_KIND
from core.settings import Settings
from providers.google.cloud_run import CloudRunServices
from providers.google.secret_manager import SecretStore
from providers.litellm import litellm_admin
from store.db import Database
from store.oversight import resource_states
from store.provisioning import customers, service_registry
from store.provisioning.models import Customer

# Cloud Run's limit on a service name.
MAX_SERVICE_NAME = 49


async def customer(db: Database, customer_id: uuid.UUID) -> Customer:
    async with db.transaction() as session:
        found = await customers.by_id(session, customer_id)
    if found is None:
        raise not_found("customer", customer_id=str(customer_id))
    if not found.active:
        raise ApiError(
            409,
            f"customer {found.prefix} is being offboarded: it gets no new agent",
            details={"customer_id": str(customer_id), "active": False},
        )
    if not found.litellm_user_id:
        # The agent's key belongs to the customer's LiteLLM user: without one it would be nobody's.
        raise ApiError(
            409,
            f"customer {found.prefix} has no LiteLLM user: onboard it with create_litellm first",
            details={"customer_id": str(customer_id), "litellm_user_id": None},
        )
    return found


def service_name_for(owner: Customer, agent_name: str) -> str:
    name = agent_service_name(owner.prefix, agent_name)
    if len(name) > MAX_SERVICE_NAME:
        raise ApiError(
            400,
            f"the service name {name!r} would exceed Cloud Run's {MAX_SERVICE_NAME} characters",
            details={
                "fields": [
                    {"field": "agent_name", "message": "too long for this customer's prefix"}
                ]
            },
        )
    return name


async def refuse_existing_service(settings: Settings, name: str, region: str) -> None:
    existing = await call_cloud(
        f"reading service {name}", CloudRunServices(settings).get, name, region
    )
    if existing is not None:
        raise ApiError(409, f"service {name} already exists", details={"service_name": name})


async def prompts(settings: Settings) -> list[PromptInfo]:
    found = await call_litellm("listing LiteLLM prompts", litellm_admin(settings).list_prompts)
    return [PromptInfo(**vars(p)) for p in found]


async def require_prompt(settings: Settings, prompt_ref: str) -> None:
    known = await prompts(settings)
    if not any(p.prompt_id == prompt_ref for p in known):
        raise ApiError(
            400,
            f"prompt {prompt_ref!r} does not exist in LiteLLM (see GET /api/v1/agents/prompts)",
            details={"fields": [{"field": "prompt_ref", "message": "unknown prompt"}]},
        )


async def agent(settings: Settings, db: Database, name: str, region: str) -> AgentResponse:
    service = await call_cloud(
        f"reading service {name}", CloudRunServices(settings).get, name, region
    )
    async with db.transaction() as session:
        record, owner = await service_registry.with_customer(session, name)
        state = await resource_states.get(session, SERVICE_KIND, name)
    labels = _labels(service, record)
    if service is None or AGENT_LABEL not in labels:
        raise not_found("agent", service_name=name)
    observed = state is not None and state.observed_at is not None
    return AgentResponse(
        service_name=name,
        service_url=service.uri or None,
        status=runtime_status(service).upper(),
        agent_name=labels[AGENT_LABEL],
        customer_id=owner.id if owner else None,
        customer_prefix=owner.prefix if owner else None,
        region=region,
        message=f"agent {labels[AGENT_LABEL]} of {owner.prefix if owner else 'no known customer'}",
        conditions=state.conditions if observed else [],
        drift=state.drift if observed else [],
        observed_at=state.observed_at if observed else None,
    )


async def require_agent(settings: Settings, db: Database, name: str, region: str) -> None:
    """An agent is a service labelled as one on Cloud Run or in the registry; once both are gone
    (a retirement that stopped half-way, a force delete), its secret labelled as an agent's still
    says so, and retiring it removes what is left."""
    service = await call_cloud(
        f"reading service {name}", CloudRunServices(settings).get, name, region
    )
    async with db.transaction() as session:
        record, _owner = await service_registry.with_customer(session, name)
    if AGENT_LABEL in _labels(service, record):
        return
    if service is None:
        secret = await call_cloud(
            f"reading secret of {name}", SecretStore(settings).get, agent_secret_name(name)
        )
        if secret is not None and AGENT_LABEL in secret.labels:
            return
    raise not_found("agent", service_name=name)


def _labels(service: run_v2.Service | None, record) -> dict[str, str]:
    labels = dict((record.labels or {}) if record is not None else {})
    if service is not None:
        labels.update(service.labels)
    return labels


async def finished_within(client: Client, job_id: str, seconds: float) -> bool:
    """Whether the job completed within `seconds`; a job that failed is a 502 naming it."""
    try:
        await asyncio.wait_for(client.get_workflow_handle(job_id).result(), seconds)
    except TimeoutError:
        return False
    except WorkflowFailureError as error:
        raise ApiError(
            502,
            "the retirement job failed; see the job",
            code="upstream_error",
            details={"job_id": job_id},
        ) from error
    return True
