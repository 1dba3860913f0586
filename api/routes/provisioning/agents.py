"""AI agents (seed 000 §4): deploy and retire start jobs (DeployAgent, RetireAgent); prompts and an
agent's details are reads. `/prompts` is declared before `/{service_name}` so it is not taken for a
service name."""

from __future__ import annotations

from fastapi import Response, status

from api.auth import Reader, Writer
from api.deps import DbDep, JobStarting, SettingsDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.provisioning import agents as logic
from api.routes.provisioning.params import IdempotencyKey, RegionQuery, ServiceNamePath
from api.schemas.jobs import JobResponse
from api.schemas.provisioning.agents import AgentDeployRequest, AgentResponse, PromptInfo
from contracts.jobs import CUSTOMER_LABEL, SERVICE_LABEL, JobSubject
from contracts.provisioning.agents import DeployAgentInput, RetireAgentInput
from contracts.provisioning.names import Operations, Workflows

router = JsonRouter(prefix="/api/v1/agents", tags=["agents"], responses=answers(502, 503))


def _subject(service_name: str) -> JobSubject:
    return JobSubject(kind="agent", name=service_name)


@router.post(
    "/deploy",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobResponse,
    responses=answers(404, 409),
)
async def deploy_agent(
    request: AgentDeployRequest,
    principal: Writer,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> JobResponse:
    """Starts `DeployAgent`. Answers first, starting nothing: 404 unknown customer, 409 the service
    `{prefix}-{agent_name}` exists, 400 the prompt is not in LiteLLM."""
    region = request.region or platform.settings.gcp_region
    owner = await logic.customer(platform.db, request.customer_id)
    service_name = logic.service_name_for(owner, request.agent_name)
    await logic.refuse_existing_service(platform.settings, service_name, region)
    await logic.require_prompt(platform.settings, request.prompt_ref)
    return await platform.jobs.start(
        Workflows.DEPLOY_AGENT,
        DeployAgentInput(
            customer_id=str(owner.id),
            agent_name=request.agent_name,
            service_name=service_name,
            region=region,
            prompt_ref=request.prompt_ref,
            image=request.image,
            default_model=request.default_model,
            agent_role=request.agent_role or request.agent_name,
            cpu=request.cpu,
            memory=request.memory,
            port=request.port,
            min_instances=request.min_instances,
            max_instances=request.max_instances,
            allow_public_access=request.allow_public_access,
            service_account=platform.settings.onboarding_service_account_email,
            litellm_url=platform.settings.resolved_litellm_agent_url,
        ),
        operation=Operations.DEPLOY_AGENT,
        subject=_subject(service_name),
        labels={SERVICE_LABEL: service_name, CUSTOMER_LABEL: owner.prefix},
        caller=principal,
        idempotency_key=idempotency_key,
        body=request.model_dump(mode="json"),
        estimated_time="1-2 minutes",
    )


@router.get("/prompts", response_model=list[PromptInfo])
async def list_prompts(_: Reader, settings: SettingsDep) -> list[PromptInfo]:
    """The prompts LiteLLM serves (`/prompts/list`): valid `prompt_ref` values for a deploy. A bare
    array, as seed 000 §4.2 answers it: LiteLLM's list is short and has no pages, so there is no
    total or cursor to carry."""
    return await logic.prompts(settings)


@router.get("/{service_name}", response_model=AgentResponse, responses=answers(404))
async def get_agent(
    service_name: ServiceNamePath,
    _: Reader,
    settings: SettingsDep,
    db: DbDep,
    region: RegionQuery = None,
) -> AgentResponse:
    return await logic.agent(settings, db, service_name, region or settings.gcp_region)


@router.delete(
    "/{service_name}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobResponse,
    responses={
        204: {"description": "The agent was retired within the wait."},
        **answers(404),
    },
)
async def retire_agent(
    service_name: ServiceNamePath,
    principal: Writer,
    platform: JobStarting,
    region: RegionQuery = None,
    idempotency_key: IdempotencyKey = None,
) -> JobResponse | Response:
    """Starts `RetireAgent` (service, registry row, secret, LiteLLM key) and waits up to
    `agent_retire_wait_seconds` for it: 204 when it is done, else 202 with the job to follow."""
    region = region or platform.settings.gcp_region
    await logic.require_agent(platform.settings, platform.db, service_name, region)
    started = await platform.jobs.start(
        Workflows.RETIRE_AGENT,
        RetireAgentInput(service_name=service_name, region=region),
        operation=Operations.RETIRE_AGENT,
        subject=_subject(service_name),
        labels={SERVICE_LABEL: service_name},
        caller=principal,
        idempotency_key=idempotency_key,
        body={"service_name": service_name, "region": region},
        estimated_time="a few seconds",
    )
    if await logic.finished_within(
        platform.temporal, started.job_id, platform.settings.agent_retire_wait_seconds
    ):
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return started
