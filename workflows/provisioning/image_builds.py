"""SetupImageBuild (seed 000 §1.8): clone and check → Artifact Registry → Cloud Build connection →
cloudbuild.yaml pushed → trigger → first build followed to its end. Every step is registered with its
undo first; undos remove only what carries this job's id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from temporalio.exceptions import is_cancelled_exception

    from contracts.jobs import JobSubject
    from contracts.provisioning.image_builds import (
        IMAGE_LABEL,
        REPOSITORY_LABEL,
        BuildConfigResult,
        CheckoutResult,
        ConnectionResult,
        FirstBuildInput,
        FirstBuildResult,
        ImageBuildPlan,
        RegistryResult,
        SetupImageBuildInput,
        TriggerInput,
        TriggerResult,
    )
    from contracts.provisioning.names import ImageBuildSteps, Operations, Workflows

from workflows.job import TrackedJob
from workflows.saga import Saga, failure_message
from workflows.steps import step
from workflows.tracking import JobTracker

# A build may take long; the wait heartbeats, so a lost worker is still noticed within seconds.
BUILD_WAIT = timedelta(hours=2)

# One attempt of each step, per its work: a clone or push of the repository, a registry or
# connection (a long-running operation), a trigger or a local file.
_GIT = timedelta(minutes=5)
_CLOUD_LRO = timedelta(minutes=5)
_QUICK = timedelta(minutes=1)


@workflow.defn(name=Workflows.SETUP_IMAGE_BUILD)
class SetupImageBuild(TrackedJob):
    @workflow.init
    def __init__(self, inp: SetupImageBuildInput) -> None:
        plan = inp.plan
        self.tracker = JobTracker(
            Operations.SETUP_IMAGE_BUILD,
            JobSubject(kind="image_build", name=plan.image_name),
            {IMAGE_LABEL: plan.image_name, REPOSITORY_LABEL: plan.github_repo},
        )

    @workflow.run
    async def run(self, inp: SetupImageBuildInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._setup(inp.plan, saga))

    async def _setup(self, plan: ImageBuildPlan, saga: Saga) -> dict[str, Any]:
        track = self.tracker

        track.phase("cloning", 5, f"cloning {plan.github_repo} (branch {plan.branch})")
        saga.on_failure(
            "remove the working copy",
            lambda: step(ImageBuildSteps.REMOVE_CHECKOUT, plan, start_to_close=_QUICK),
        )
        checkout = await step(ImageBuildSteps.CHECKOUT, plan, CheckoutResult, start_to_close=_GIT)
        track.log(f"{plan.dockerfile_path} found at commit {checkout.commit_sha[:12]}")

        track.phase("artifact registry", 20, f"Docker repository {plan.image_name}")
        saga.on_failure(
            "delete the Artifact Registry repository this job created",
            lambda: step(ImageBuildSteps.DELETE_REGISTRY, plan, bool, start_to_close=_CLOUD_LRO),
        )
        registry = await step(
            ImageBuildSteps.ENSURE_REGISTRY, plan, RegistryResult, start_to_close=_CLOUD_LRO
        )
        track.log(f"{'created' if registry.created else 'found'} {registry.url}")

        track.phase("connecting repository", 35, f"linking {plan.github_repo} to Cloud Build")
        saga.on_failure(
            "keep the Cloud Build connection and link (the platform's, shared by other builds)",
            lambda: step(
                ImageBuildSteps.DELETE_CONNECTION, plan, list[str], start_to_close=_CLOUD_LRO
            ),
        )
        connection = await step(
            ImageBuildSteps.ENSURE_CONNECTION, plan, ConnectionResult, start_to_close=_CLOUD_LRO
        )
        track.log(f"repository linked as {connection.repository}")

        track.phase("build config", 50, f"writing {plan.cloudbuild_path}")
        saga.on_failure(
            "revert this job's build config commit",
            lambda: step(ImageBuildSteps.REVERT_BUILD_CONFIG, plan, str, start_to_close=_GIT),
        )
        config = await step(
            ImageBuildSteps.PUSH_BUILD_CONFIG, plan, BuildConfigResult, start_to_close=_GIT
        )
        track.log(
            f"pushed {plan.cloudbuild_path} as {config.commit_sha[:12]}"
            if config.committed
            else f"{plan.cloudbuild_path} already up to date, nothing committed"
        )

        track.phase("trigger", 65, f"trigger on pushes to {plan.branch}")
        saga.on_failure(
            "delete the trigger this job created",
            lambda: step(ImageBuildSteps.DELETE_TRIGGER, plan, bool, start_to_close=_QUICK),
        )
        trigger = await step(
            ImageBuildSteps.ENSURE_TRIGGER,
            TriggerInput(plan=plan, linked_repository=connection.repository),
            TriggerResult,
            start_to_close=_QUICK,
        )
        track.log(f"{'created' if trigger.created else 'found'} trigger {trigger.name}")

        track.phase("first build", 75, "starting the first build")
        build, note = await self._first_build(plan, trigger)

        track.phase("cleaning up", 98, "removing the working copy")
        await step(ImageBuildSteps.REMOVE_CHECKOUT, plan, start_to_close=_QUICK)
        return track.complete(
            {
                "image_name": plan.image_name,
                "github_repo": plan.github_repo,
                "branch": plan.branch,
                "artifact_registry_url": registry.url,
                "image": registry.image,
                "trigger_name": trigger.name,
                "trigger_id": trigger.id,
                "build_id": build.build_id if build else None,
                "build_status": build.status if build else None,
                "build_log_url": build.log_url if build else None,
                "cloudbuild_committed": config.committed,
                "commit_sha": config.commit_sha,
                "note": note,
            },
            f"image build for {plan.image_name} set up",
        )

    async def _first_build(
        self, plan: ImageBuildPlan, trigger: TriggerResult
    ) -> tuple[FirstBuildResult | None, str | None]:
        """The first build never fails the job: the pipeline exists, and the trigger builds the
        next push. A cancel still stops the job (and the build)."""
        later = f"the trigger runs on the next push to {plan.branch}"
        try:
            build = await step(
                ImageBuildSteps.RUN_FIRST_BUILD,
                FirstBuildInput(plan=plan, trigger_id=trigger.id),
                FirstBuildResult,
                start_to_close=BUILD_WAIT,
                long_wait=True,
                may_hold=False,
            )
        except ActivityError as error:
            if is_cancelled_exception(error):
                raise
            note = f"the first build could not be run ({failure_message(error)}); {later}"
            self.tracker.log(note)
            return None, note
        self.tracker.log(f"first build {build.build_id} ended {build.status}")
        if build.status == "SUCCESS":
            return build, None
        note = f"the first build ended {build.status}"
        note += f" ({build.detail})" if build.detail else ""
        note = f"{note}; {later}"
        self.tracker.log(note)
        return build, note
