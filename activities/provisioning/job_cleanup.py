"""Provisioning's cleanup after a force-cancel: the Cloud Run services and the Secret Manager
secrets that carry the terminated job's `job-id` label, and nothing else."""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import call_google
from contracts.job_cleanup import JobCleanupInput, JobCleanupResult
from contracts.provisioning.names import CleanupSteps
from core.settings import Settings
from providers.google.cloud_run import CloudRunServices
from providers.google.cloud_run_spec import JOB_LABEL, applied_by, job_label_value
from providers.google.secret_manager import SecretStore

log = structlog.get_logger(__name__)


class JobCleanupActivities:
    def __init__(self, settings: Settings) -> None:
        self.cloud_run = CloudRunServices(settings)
        self.secrets = SecretStore(settings)

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
        return result
