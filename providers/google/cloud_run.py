"""Cloud Run Admin v2 through the official `run_v2` client: the reads the API and the activities
share, the force delete, and the shape of a service as a job sees it. Blocking (no async REST
transport): callers run these in a thread."""

from __future__ import annotations

from google.api_core import exceptions as gexc
from google.cloud import run_v2

from contracts.provisioning.services import CloudRunServiceResult, ServicePlan, ServiceSpec
from core.settings import Settings, get_settings
from providers.google.clients import cloud_run_services_client, service_path
from providers.google.cloud_run_plan import plan_service

INVOKER_ROLE = "roles/run.invoker"
FORCE_DELETE_TIMEOUT_SECONDS = 120


def short_revision(full_name: str) -> str | None:
    return full_name.rsplit("/", 1)[-1] if full_name else None


def result_of(service: run_v2.Service, region: str, **extra) -> CloudRunServiceResult:
    containers = service.template.containers
    return CloudRunServiceResult(
        service_name=service.name.rsplit("/", 1)[-1],
        region=region,
        uri=service.uri or None,
        latest_revision=short_revision(service.latest_ready_revision),
        image=containers[0].image if containers else None,
        **extra,
    )


class CloudRunServices:
    """One project's Cloud Run services (the region defaults to the settings')."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    @property
    def client(self) -> run_v2.ServicesClient:
        return cloud_run_services_client(self.settings)

    def path(self, name: str, region: str | None = None) -> str:
        return service_path(name, self.settings, region)

    def get(self, name: str, region: str | None = None) -> run_v2.Service | None:
        try:
            return self.client.get_service(name=self.path(name, region), retry=None)
        except gexc.NotFound:
            return None

    def list(self, region: str | None = None) -> list[run_v2.Service]:
        parent = self.path("x", region).rsplit("/services/", 1)[0]
        return list(self.client.list_services(parent=parent, retry=None))

    def iam_members(self, name: str, region: str | None = None) -> list[str]:
        policy = self.client.get_iam_policy(request={"resource": self.path(name, region)})
        return sorted(m for b in policy.bindings if b.role == INVOKER_ROLE for m in b.members)

    def plan(self, spec: ServiceSpec, region: str) -> ServicePlan:
        """What applying `spec` would change on the live service: the API's dry run and the
        deploy job's stale-plan check both read it here (`cloud_run_plan.plan_service`)."""
        current = self.get(spec.service_name, region)
        invokers = self.iam_members(spec.service_name, region) if current is not None else None
        return plan_service(self.settings, spec, region, current, invokers)

    def force_delete(self, name: str, region: str | None = None) -> str:
        """Deletes and waits; never raises. Returns `deleted`, `not_found` or `error: …`."""
        try:
            operation = self.client.delete_service(name=self.path(name, region), retry=None)
            operation.result(timeout=FORCE_DELETE_TIMEOUT_SECONDS)
            return "deleted"
        except gexc.NotFound:
            return "not_found"
        except Exception as error:  # force delete reports, the caller logs it
            return f"error: {type(error).__name__}: {getattr(error, 'message', error)}"
