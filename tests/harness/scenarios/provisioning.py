"""The provisioning system's scenarios (seed 000): Cloud Run services, customers, agents, service
databases, image builds."""

from __future__ import annotations

import asyncio
import uuid

from contracts.provisioning.names import Workflows as Provisioning
from providers.google.secret_manager import SecretStore
from store.db import Database
from store.provisioning.models import ExternalService
from tests.harness.platform import HarnessPlatform
from tests.harness.scenarios.base import (
    Prepared,
    Scenario,
    finished,
    name,
    no_prerequisites,
    started,
)
from tests.helpers.drift import (
    change_behind_the_platforms_back,
    make_public_behind_the_platforms_back,
)
from tests.helpers.platform import POSTGRES_URL
from tests.helpers.provisioning import IMAGE


# DeployService: a new Cloud Run service, its invokers and its registry record.
async def _prepare_deploy(platform: HarnessPlatform) -> Prepared:
    return await no_prerequisites("hsvc-")


async def _start_deploy(platform: HarnessPlatform, prepared: Prepared) -> str:
    body = {"service_name": prepared.tokens[0], "image": IMAGE}
    return await started(await platform.api.post("/api/v1/services/deploy", json=body))


# UndeployService: removes a deployed service.
async def _prepare_undeploy(platform: HarnessPlatform) -> Prepared:
    prepared = await _prepare_deploy(platform)
    await finished(platform, await _start_deploy(platform, prepared))
    return prepared


async def _start_undeploy(platform: HarnessPlatform, prepared: Prepared) -> str:
    return await started(await platform.api.delete(f"/api/v1/services/{prepared.tokens[0]}"))


# OnboardCustomer: the Jira portal, the LiteLLM user and key, the ZenML database, secrets,
# runtime account and server, through three child jobs.
ONBOARD_ALL = {"create_jira_portal": True, "create_litellm": True, "create_zenml": True}


async def _prepare_onboard(platform: HarnessPlatform) -> Prepared:
    return await no_prerequisites("h")


async def _start_onboard(platform: HarnessPlatform, prepared: Prepared, **flags) -> str:
    prefix = prepared.tokens[0]
    body = {"prefix": prefix, "name": f"Customer {prefix}", "email": f"admin@{prefix}.example"}
    body |= flags or {**ONBOARD_ALL, "zenml_organization_id": "org-1"}
    response = await platform.api.post("/api/v1/customers", json=body)
    prepared.extra["customer_id"] = response.json().get("id")
    return await started(response)


# OffboardCustomer: removes everything an onboarding made.
async def _prepare_offboard(platform: HarnessPlatform) -> Prepared:
    prepared = await _prepare_onboard(platform)
    await finished(platform, await _start_onboard(platform, prepared))
    return prepared


async def _start_offboard(platform: HarnessPlatform, prepared: Prepared) -> str:
    customer = prepared.extra["customer_id"]
    return await started(await platform.api.delete(f"/api/v1/customers/{customer}"))


# OffboardCustomer+agents: a customer onboarded with LiteLLM only, with one deployed agent; the
# offboarding retires the agent through a RetireAgent child job, then removes the LiteLLM user.
async def _prepare_offboard_with_agents(platform: HarnessPlatform) -> Prepared:
    return await _prepare_retire_agent(platform)


# DeployAgent: the agent's LiteLLM key and its secret, then a DeployService child for its service.
AGENT = "helper"


async def _prepare_deploy_agent(platform: HarnessPlatform) -> Prepared:
    prepared = await _prepare_onboard(platform)
    job = await _start_onboard(platform, prepared, create_litellm=True)
    await finished(platform, job)
    return prepared


async def _start_deploy_agent(platform: HarnessPlatform, prepared: Prepared) -> str:
    body = {
        "customer_id": prepared.extra["customer_id"],
        "agent_name": AGENT,
        "prompt_ref": "researcher-system",
        "image": IMAGE,
        "default_model": "gpt-4o",
    }
    return await started(await platform.api.post("/api/v1/agents/deploy", json=body))


# RetireAgent: removes a deployed agent.
async def _prepare_retire_agent(platform: HarnessPlatform) -> Prepared:
    prepared = await _prepare_deploy_agent(platform)
    await finished(platform, await _start_deploy_agent(platform, prepared))
    return prepared


async def _start_retire_agent(platform: HarnessPlatform, prepared: Prepared) -> str:
    service = f"{prepared.tokens[0]}-{AGENT}"
    return await started(await platform.api.delete(f"/api/v1/agents/{service}"))


# CreateServiceDatabase: a PostgreSQL database and user, their password and connection string in
# Secret Manager, on a registered external service whose admin password is a secret.
async def _prepare_service_database(platform: HarnessPlatform) -> Prepared:
    suffix = uuid.uuid4().hex[:8]
    prepared = Prepared([f"hdb{suffix}", f"hsvc{suffix}"])
    secret = f"hpg-admin-{suffix}"
    await asyncio.to_thread(
        SecretStore(platform.settings).create, secret, "pg-admin-password", {"scope": "global"}
    )
    database = Database(platform.settings.resolved_database_url)
    try:
        async with database.transaction() as session:
            row = ExternalService(
                name=f"hpg-{suffix}",
                type="postgres",
                url=POSTGRES_URL,
                secret_refs={"password": secret},
            )
            session.add(row)
    finally:
        await database.dispose()
    prepared.extra["service_id"] = str(row.id)
    return prepared


async def _start_service_database(
    platform: HarnessPlatform, prepared: Prepared, password: str | None = None
) -> str:
    db_name, service = prepared.tokens
    path = f"/api/v1/external-services/{prepared.extra['service_id']}/create_service_database"
    body = {"db_name": db_name, "service_name": service}
    if password is not None:
        body["password"] = password
    return await started(await platform.api.post(path, json=body))


# CreateServiceDatabase+password: the caller gives the password; the API stages it in a secret
# named after the job (`<job id>-given-password`), which the job reads and deletes.
async def _start_service_database_given_password(
    platform: HarnessPlatform, prepared: Prepared
) -> str:
    return await _start_service_database(platform, prepared, password=f"pw-{uuid.uuid4().hex}")


# SetupImageBuild: an Artifact Registry repository, a Cloud Build connection, repository and
# trigger, a commit with the build config in the git repository, and a first build.
DOCKERFILE = 'FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n'


async def _prepare_image_build(platform: HarnessPlatform) -> Prepared:
    prepared = Prepared([name("o"), name("img-")])
    files = {"docker/Dockerfile": DOCKERFILE, "main.py": "print(1)\n"}
    await asyncio.to_thread(platform.cloud.create_git_repo, prepared.tokens[0], "app", files)
    return prepared


async def _start_image_build(platform: HarnessPlatform, prepared: Prepared) -> str:
    owner, image = prepared.tokens
    body = {
        "image_name": image,
        "github_repo": f"{owner}/app",
        "dockerfile_path": "docker/Dockerfile",
        "cloudbuild_path": "ci/cloudbuild.yaml",
    }
    return await started(await platform.api.post("/api/v1/services/setup-image-build", json=body))


# ReconcileService (kind change): a deployed service (the undeploy's prerequisite), then drifted
# behind the platform's back straight on the local cloud's Cloud Run (tests/helpers/drift.py: another
# image, an env var changed and one added, a secret reference added, and made public), then
# `POST /api/v1/services/{name}/reconcile`: the applied configuration and invokers put back, marked
# with the reconcile's job. One that fails or is cancelled leaves the service as the operator left
# it (drifted): it puts back what it found before reapplying (its undo, only what is as the
# reconcile left it), and removes and makes nothing.
async def _prepare_reconcile(platform: HarnessPlatform) -> Prepared:
    prepared = await _prepare_undeploy(platform)
    name = prepared.tokens[0]
    await asyncio.to_thread(change_behind_the_platforms_back, platform.settings, name)
    await asyncio.to_thread(make_public_behind_the_platforms_back, platform.settings, name)
    return prepared


# ReconcileService+access: the same service drifted in its access only (made public): the reconcile
# writes the applied invokers and leaves the configuration alone (so the service never carries the
# reconcile's mark); one undone makes it public again, as it found it.
async def _prepare_reconcile_access(platform: HarnessPlatform) -> Prepared:
    prepared = await _prepare_undeploy(platform)
    await asyncio.to_thread(
        make_public_behind_the_platforms_back, platform.settings, prepared.tokens[0]
    )
    return prepared


async def _start_reconcile(platform: HarnessPlatform, prepared: Prepared) -> str:
    path = f"/api/v1/services/{prepared.tokens[0]}/reconcile"
    return await started(await platform.api.post(path))


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(Provisioning.DEPLOY_SERVICE, "create", _prepare_deploy, _start_deploy),
    Scenario(Provisioning.UNDEPLOY_SERVICE, "remove", _prepare_undeploy, _start_undeploy),
    Scenario(Provisioning.ONBOARD_CUSTOMER, "create", _prepare_onboard, _start_onboard),
    Scenario(Provisioning.OFFBOARD_CUSTOMER, "remove", _prepare_offboard, _start_offboard),
    Scenario(
        Provisioning.OFFBOARD_CUSTOMER,
        "remove",
        _prepare_offboard_with_agents,
        _start_offboard,
        variant="agents",
    ),
    Scenario(Provisioning.DEPLOY_AGENT, "create", _prepare_deploy_agent, _start_deploy_agent),
    Scenario(Provisioning.RETIRE_AGENT, "remove", _prepare_retire_agent, _start_retire_agent),
    Scenario(
        Provisioning.CREATE_SERVICE_DATABASE,
        "create",
        _prepare_service_database,
        _start_service_database,
    ),
    Scenario(
        Provisioning.CREATE_SERVICE_DATABASE,
        "create",
        _prepare_service_database,
        _start_service_database_given_password,
        variant="password",
    ),
    Scenario(
        Provisioning.SETUP_IMAGE_BUILD,
        "create",
        _prepare_image_build,
        _start_image_build,
        # The owner's GitHub connection and the repository's link serve every build of them.
        shared=("cloud_build_<id>.connections", "cloud_build_<id>.repositories"),
    ),
    Scenario(Provisioning.RECONCILE_SERVICE, "change", _prepare_reconcile, _start_reconcile),
    Scenario(
        Provisioning.RECONCILE_SERVICE,
        "change",
        _prepare_reconcile_access,
        _start_reconcile,
        variant="access",
    ),
)
