"""CreateDockerService and ControlDockerService (seed 001): a user's multi-container service made
through the Docker Engine API — source into its workspace → Compose file → labelled network,
volumes and one container per type (plus Filebrowser) → healthy → `running` with its access URLs —
and its start / shutdown / restart / delete. A create that fails or is cancelled removes what it
made (found by its job label) and the service's row; a delete removes everything of the service
that carries its tenant's mark; a start / shutdown / restart that fails or is cancelled puts the
containers back in the power state the service's row records (started for `running`, stopped for
`stopped`) and the row back to that status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.hosting.services import (
        SUBJECT_KIND,
        TYPE_SLUGS,
        AccessPoint,
        ControlDockerServiceInput,
        CreateContainersInput,
        CreateDockerServiceInput,
        FetchedSource,
        FetchSourceInput,
        HealthInput,
        HealthResult,
        MarkInput,
        Operations,
        PowerInput,
        PowerResult,
        ServicePlan,
        ServiceRef,
        ServiceStatus,
        ServiceSteps,
        TeardownInput,
        TeardownResult,
        Workflows,
        WriteComposeInput,
    )
    from contracts.jobs import SERVICE_LABEL, JobSubject

from workflows.job import TrackedJob
from workflows.saga import Saga
from workflows.steps import job_heartbeat, step, step_to_the_end
from workflows.tracking import JobTracker

# One attempt of each step, per its work: a row of the platform's database; fetching a source (a
# ZIP of up to hundreds of MiB, a clone); creating containers (image pulls); removing them.
_DB = timedelta(seconds=30)
_FETCH = timedelta(minutes=15)
_DOCKER = timedelta(minutes=10)
_POLL_SECONDS = 1.0
# A start / shutdown / restart reads the service's status first, to put it back when it ends undone.
POWER_BACK_PATCH = "service-control-puts-power-back"
USER_LABEL = "hosting_user"
SERVICE_ID_LABEL = "service_id"


def service_job(operation: str, service_id: int, userid: str, name: str | None) -> JobTracker:
    return JobTracker(
        operation,
        JobSubject(kind=SUBJECT_KIND, name=str(service_id)),
        {SERVICE_LABEL: name or "", USER_LABEL: userid, SERVICE_ID_LABEL: str(service_id)},
    )


@workflow.defn(name=Workflows.CREATE_DOCKER_SERVICE)
class CreateDockerService(TrackedJob):
    @workflow.init
    def __init__(self, inp: CreateDockerServiceInput) -> None:
        self.tracker = service_job(Operations.CREATE, inp.service_id, inp.userid, inp.service_name)
        self._inp = inp

    def _ref(self) -> ServiceRef:
        return ServiceRef(
            service_id=self._inp.service_id,
            userid=self._inp.userid,
            job_id=workflow.info().workflow_id,
        )

    def owned_from_the_start(self, saga: Saga) -> None:
        """The row the API added for this job goes last; before it, everything this job made in
        Docker and the workspace (and the upload, if never extracted): registered before the job
        waits for its turn, so a create undone at any point leaves nothing."""
        mine = TeardownInput(ref=self._ref(), by_job=True, upload_name=self._inp.source.upload_name)
        saga.on_failure(
            "delete the service record",
            lambda: step(ServiceSteps.DELETE_RECORD, mine, bool, start_to_close=_DB),
        )
        saga.on_failure(
            "remove the containers, network, volumes and workspace this job created",
            lambda: step(ServiceSteps.TEARDOWN, mine, TeardownResult, start_to_close=_DOCKER),
        )

    @workflow.run
    async def run(self, inp: CreateDockerServiceInput) -> dict[str, Any]:
        return await self.run_saga(lambda _saga: self._create(inp))

    async def _create(self, inp: CreateDockerServiceInput) -> dict[str, Any]:
        track, ref = self.tracker, self._ref()
        where = {"zip": "the uploaded ZIP", "git": "the git repository", "none": "no source"}
        track.phase("fetching", 10, f"fetching {where[inp.source.kind]} into the workspace")
        fetched = await step(
            ServiceSteps.FETCH_SOURCE,
            FetchSourceInput(ref=ref, source=inp.source),
            FetchedSource,
            start_to_close=_FETCH,
        )
        track.log(f"workspace holds {fetched.files} files ({fetched.bytes} bytes)")

        track.phase("composing", 30, "writing the Compose file")
        plan = await step(
            ServiceSteps.WRITE_COMPOSE,
            WriteComposeInput(
                ref=ref,
                service_name=inp.service_name,
                service_types=inp.service_types,
                primary_app_type=inp.primary_app_type,
                filebrowser_password_hash=inp.filebrowser_password_hash,
            ),
            ServicePlan,
            start_to_close=_DB,
        )

        names = ", ".join(c.container_name for c in plan.containers)
        track.phase("creating", 50, f"creating network {plan.network} and containers {names}")
        await step(
            ServiceSteps.CREATE_CONTAINERS,
            CreateContainersInput(ref=ref, plan=plan),
            list[str],
            start_to_close=_DOCKER,
        )

        track.phase("starting", 75, "waiting for the containers to become healthy")
        healthy = await step(
            ServiceSteps.AWAIT_HEALTH,
            HealthInput(
                ref=ref, timeout_seconds=inp.health_timeout_seconds, poll_seconds=_POLL_SECONDS
            ),
            HealthResult,
            start_to_close=timedelta(seconds=inp.health_timeout_seconds) + _DB,
            heartbeat=job_heartbeat(at_least=timedelta(seconds=_POLL_SECONDS * 3)),
            long_wait=True,
        )
        urls = {point.service: point.url for point in healthy.access}
        primary = next(
            (p.url for p in healthy.access if p.service == TYPE_SLUGS[inp.primary_app_type]),
            next(iter(urls.values()), None),
        )
        await step(
            ServiceSteps.MARK,
            MarkInput(ref=ref, status="running", access_url=primary, access_urls=urls),
            bool,
            start_to_close=_DB,
        )
        return track.complete(
            {
                "service_id": inp.service_id,
                "service_name": inp.service_name,
                "status": "running",
                "access_url": primary,
                "access_urls": urls,
                "containers": [c.container_name for c in plan.containers],
            },
            f"service {inp.service_name} is running at {primary or 'no public URL'}",
        )


@workflow.defn(name=Workflows.CONTROL_DOCKER_SERVICE)
class ControlDockerService(TrackedJob):
    @workflow.init
    def __init__(self, inp: ControlDockerServiceInput) -> None:
        self.tracker = service_job(Operations.CONTROL, inp.service_id, inp.userid, inp.service_name)

    @workflow.run
    async def run(self, inp: ControlDockerServiceInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._control(inp, saga))

    async def _control(self, inp: ControlDockerServiceInput, saga: Saga) -> dict[str, Any]:
        track = self.tracker
        ref = ServiceRef(service_id=inp.service_id, userid=inp.userid, job_id=inp.owner_job_id)
        if inp.action == "delete":
            track.phase("deleting", 30, f"removing service {inp.service_id} and all it holds")
            removed, _ = await step_to_the_end(
                ServiceSteps.TEARDOWN,
                TeardownInput(ref=ref, by_job=False),
                TeardownResult,
                start_to_close=_DOCKER,
            )
            await step_to_the_end(
                ServiceSteps.DELETE_RECORD,
                TeardownInput(ref=ref, by_job=False),
                bool,
                start_to_close=_DB,
            )
            return track.complete(
                {"service_id": inp.service_id, "action": "delete", **removed.model_dump()},
                f"service {inp.service_id} deleted: {len(removed.containers)} containers, "
                f"{len(removed.volumes)} volumes removed",
            )
        if workflow.patched(POWER_BACK_PATCH):
            before = await step(ServiceSteps.STATUS, ref, ServiceStatus, start_to_close=_DB)
            self._power_back(inp, ref, before, saga)
        track.phase(inp.action, 30, f"{inp.action} of service {inp.service_id}")
        powered = await step(
            ServiceSteps.POWER,
            PowerInput(ref=ref, action=inp.action),
            PowerResult,
            start_to_close=_DOCKER,
        )
        status = "stopped" if inp.action == "shutdown" else "running"
        # A start gives containers new host ports (the old ones went back to the daemon at the
        # stop): the stored access URLs are rebuilt from the live containers, and a stopped
        # service has none (its old ports may serve another service by now).
        access: list[AccessPoint] = []
        if status == "running":
            track.phase("starting", 60, "waiting for the containers to become healthy")
            access = (await _healthy(inp, ref)).access
        await step(
            ServiceSteps.MARK,
            MarkInput(ref=ref, status=status, access=access),
            bool,
            start_to_close=_DB,
        )
        return track.complete(
            {
                "service_id": inp.service_id,
                "action": inp.action,
                "status": status,
                "containers": powered.containers,
                "access_urls": {point.service: point.url for point in access},
            },
            f"service {inp.service_id} is {status}",
        )

    @staticmethod
    def _power_back(
        inp: ControlDockerServiceInput, ref: ServiceRef, before: ServiceStatus, saga: Saga
    ) -> None:
        """Undos of a power change, registered before it: the containers started again and healthy
        (or stopped again, for a service recorded `stopped`), then the row's status put back."""
        if before.status is None:
            return
        # The containers powered back have new host ports (or none, stopped): the row's URLs are
        # rebuilt from what the power-back found, which runs before this undo (undos run last
        # registered first). A power-back that failed leaves them as they are.
        restored: dict[str, list[AccessPoint]] = {}
        saga.on_failure(
            f"put service {ref.service_id}'s status back to {before.status}",
            lambda: step(
                ServiceSteps.MARK,
                MarkInput(ref=ref, status=before.status, access=restored.get("access")),
                bool,
                start_to_close=_DB,
            ),
        )
        action = "shutdown" if before.status == "stopped" else "start"

        async def power_back() -> None:
            await step(
                ServiceSteps.POWER,
                PowerInput(ref=ref, action=action),
                PowerResult,
                start_to_close=_DOCKER,
            )
            restored["access"] = (await _healthy(inp, ref)).access if action == "start" else []

        saga.on_failure(
            f"{action} service {ref.service_id}'s containers again ({before.status} before)",
            power_back,
        )


async def _healthy(inp: ControlDockerServiceInput, ref: ServiceRef) -> HealthResult:
    return await step(
        ServiceSteps.AWAIT_HEALTH,
        HealthInput(
            ref=ref, timeout_seconds=inp.health_timeout_seconds, poll_seconds=_POLL_SECONDS
        ),
        HealthResult,
        start_to_close=timedelta(seconds=inp.health_timeout_seconds) + _DB,
        heartbeat=job_heartbeat(at_least=timedelta(seconds=_POLL_SECONDS * 3)),
        long_wait=True,
    )
