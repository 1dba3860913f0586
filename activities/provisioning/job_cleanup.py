"""Provisioning's cleanup after a force-cancel: the Cloud Run services, the Secret Manager secrets
and the Artifact Registry repositories that carry the terminated job's `job-id` label, and the
Cloud Build triggers tagged `job-<id>` (an image build's), and nothing else. (An image build's
commit stays in the repository's history; its connection and repository link are the platform's,
shared by every build of that owner.)"""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import call_google
from contracts.job_cleanup import JobCleanupInput, JobCleanupResult
from contracts.provisioning.names import CleanupSteps
from core.settings import Settings
from providers.google.artifact_registry import ArtifactRegistry
from providers.google.cloud_build import CloudBuild
from providers.google.cloud_run import CloudRunServices
from providers.google.cloud_run_spec import JOB_LABEL, applied_by, job_label_value
from providers.google.secret_manager import SecretStore

log = structlog.get_logger(__name__)
# A repository's deletion is a long-running operation; the step's own timeout is minutes.
_DELETE_SECONDS = 120


class JobCleanupActivities:
    def __init__(self, settings: Settings) -> None:
        self.cloud_run = CloudRunServices(settings)
        self.secrets = SecretStore(settings)
        self.registry = ArtifactRegistry(settings)
        self.cloud_build = CloudBuild(settings)
        # Image builds make their repository in the platform's region (api/routes/provisioning).
        self.region = settings.gcp_region

    @activity.defn(name=CleanupSteps.AFTER_TERMINATE)
    async def cleanup_after_terminate(self, inp: JobCleanupInput) -> JobCleanupResult:
        """Idempotent: what is already gone is not listed again."""
        result = JobCleanupResult()
        services = await call_google("listing Cloud Run services", self.cloud_run.list, "-")
        for service in services:
            if not applied_by(service, inp.job_id):
                continue
            _, _, region_and_name = service.name.partition("/locations/")
            region, _, name = region_and_name.partition("/services/")
            # Deleted only while the terminated job's label is still on it: a job that applied
            # the service since then owns it now.
            outcome = await call_google(
                f"deleting service {name}", self.cloud_run.force_delete, name, region
            )
            log.info("cleanup after terminate", job_id=inp.job_id, service=name, outcome=outcome)
            if outcome.startswith("error"):
                raise ApplicationError(
                    f"deleting service {name}: {outcome.removeprefix('error: ')}"
                )
            if outcome == "deleted":
                result.removed.append(f"cloud run service {name}")
        label = {JOB_LABEL: job_label_value(inp.job_id)}
        for secret in await call_google("listing secrets", self.secrets.list, label):
            if await call_google(
                f"deleting secret {secret.name}", self.secrets.delete, secret.name
            ):
                result.removed.append(f"secret {secret.name}")
        result.removed += await self._triggers(inp.job_id)
        result.removed += await self._registries(inp.job_id)
        return result

    async def _triggers(self, job_id: str) -> list[str]:
        removed = []
        listed = await call_google(
            "listing Cloud Build triggers", self.cloud_build.list_triggers, self.region
        )
        for trigger in listed:
            if f"job-{job_id}" not in trigger.tags:
                continue
            what = f"deleting Cloud Build trigger {trigger.name}"
            if await call_google(what, self.cloud_build.delete_trigger, trigger.id, self.region):
                removed.append(f"cloud build trigger {trigger.name}")
        return removed

    async def _registries(self, job_id: str) -> list[str]:
        removed = []
        listed = await call_google(
            "listing Artifact Registry repositories", self.registry.list, self.region
        )
        for repository in listed:
            # An image build labels its repository with its raw job id (activities/.../image_builds).
            if repository.labels.get(JOB_LABEL) != job_id:
                continue
            name = repository.name.rsplit("/", 1)[-1]
            what = f"deleting Artifact Registry repository {name}"
            operation = await call_google(what, self.registry.delete, name, self.region)
            if operation is not None:
                await call_google(what, operation.result, timeout=_DELETE_SECONDS)
                removed.append(f"artifact registry repository {name}")
        return removed
