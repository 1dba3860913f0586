"""SetupImageBuild's steps (seed 000 §1.8): each checks before it creates, marks what it creates with
the job id, adopts what it finds only when it carries the platform's mark (never what was made by
hand), and its undo removes only what carries this job's mark."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import structlog
from google.cloud.devtools import cloudbuild_v1 as cb1
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import call_google, settle_in_thread
from activities.create_or_adopt import create_or_adopt
from contracts.provisioning.image_builds import (
    COMMIT_TRAILER,
    CREATED_BY_LABEL,
    JOB_LABEL,
    PLATFORM_MARK,
    TRIGGER_TAG,
    BuildConfigResult,
    CheckoutResult,
    ConnectionResult,
    FirstBuildInput,
    FirstBuildResult,
    ImageBuildPlan,
    RegistryResult,
    TriggerInput,
    TriggerResult,
    is_platform_owned,
    is_platform_repository,
    is_platform_trigger,
    job_tag,
    trigger_name,
)
from contracts.provisioning.names import ImageBuildSteps
from core.settings import Settings, get_settings
from providers import git
from providers.google import cloud_build as cbnames
from providers.google.artifact_registry import ArtifactRegistry, registry_url
from providers.google.cloud_build import FINAL_STATUSES, CloudBuild

log = structlog.get_logger(__name__)
T = TypeVar("T")
POLL_SECONDS = 1.0
OPERATION_TIMEOUT_SECONDS = 300


def _job_id() -> str:
    return activity.info().workflow_id


def _attempt_workdir() -> Path:
    """This attempt's own working copy, inside the job's directory. A shared one raced: an attempt
    the server had already given up on (a heartbeat lost on a loaded worker) could still be cloning
    in its thread while the retry cloned into the same directory (`shallow file has changed`)."""
    info = activity.info()
    return git.workdir(info.workflow_id) / f"{info.activity_id}-{info.attempt}"


def _final(message: str, type_: str) -> ApplicationError:
    return ApplicationError(message, type=type_, non_retryable=True)


def _mark_text() -> str:
    return ", ".join(f"{key}={value}" for key, value in PLATFORM_MARK.items())


class ImageBuildActivities:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.registry = ArtifactRegistry(self.settings)
        self.cloud_build = CloudBuild(self.settings)

    # Helpers

    def _clone_url(self, plan: ImageBuildPlan) -> str:
        return f"{self.settings.resolved_github_base_url}/{plan.owner}/{plan.repo}.git"

    def _token(self) -> str | None:
        token = self.settings.github_token
        return token.get_secret_value() if token else None

    async def _git(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await settle_in_thread(fn, *args)
        except git.GitError as error:
            raise ApplicationError(
                f"{what}: {error}", type="GitError", non_retryable=not error.retryable
            ) from None

    @contextlib.asynccontextmanager
    async def _working_copy(self, plan: ImageBuildPlan) -> AsyncIterator[tuple[Path, str]]:
        """A fresh clone of the branch for one step (its path and HEAD), removed when the step
        ends: every step clones again, so no step depends on a copy another one left."""
        dest = _attempt_workdir()
        try:
            sha = await self._git(
                f"cloning {plan.github_repo}",
                git.clone,
                self._clone_url(plan),
                dest,
                plan.branch,
                self._token(),
            )
            yield dest, sha
        finally:
            await asyncio.to_thread(git.remove, dest)

    @staticmethod
    async def _wait(what: str, operation: Any) -> Any:
        return await call_google(what, operation.result, timeout=OPERATION_TIMEOUT_SECONDS)

    # 1. Clone, and check the Dockerfile

    @activity.defn(name=ImageBuildSteps.CHECKOUT)
    async def checkout(self, plan: ImageBuildPlan) -> CheckoutResult:
        async with self._working_copy(plan) as (dest, sha):
            dockerfile = await self._git(
                "reading the Dockerfile", git.read, dest, plan.dockerfile_path
            )
        if dockerfile is None:
            raise _final(
                f"Dockerfile {plan.dockerfile_path} not found in {plan.github_repo} "
                f"(branch {plan.branch}, commit {sha[:12]})",
                "DockerfileNotFound",
            )
        return CheckoutResult(commit_sha=sha)

    @activity.defn(name=ImageBuildSteps.REMOVE_CHECKOUT)
    async def remove_checkout(self, plan: ImageBuildPlan) -> None:
        # Every attempt's copy, including one a killed worker left behind.
        await asyncio.to_thread(git.remove, git.workdir(_job_id()))

    # 2. Artifact Registry

    @activity.defn(name=ImageBuildSteps.ENSURE_REGISTRY)
    async def ensure_registry(self, plan: ImageBuildPlan) -> RegistryResult:
        what = f"creating Artifact Registry repository {plan.image_name}"

        async def create() -> Any:
            operation = await call_google(
                what,
                self.registry.create_docker,
                plan.image_name,
                plan.region,
                {**PLATFORM_MARK, JOB_LABEL: _job_id()},
                f"Images of {plan.github_repo}, set up by the ConneSkills platform",
            )
            return await self._wait(what, operation)

        repository = await create_or_adopt(
            what,
            lambda: call_google(what, self.registry.get, plan.image_name, plan.region),
            create,
        )
        if not is_platform_repository(repository.labels):
            raise _final(
                f"Artifact Registry repository {plan.image_name} exists but was not made by the "
                f"platform (no label {_mark_text()}); it is left alone",
                "AlreadyExists",
            )
        if repository.format_.name != "DOCKER":
            raise _final(
                f"Artifact Registry repository {plan.image_name} exists with format "
                f"{repository.format_.name}, not DOCKER",
                "AlreadyExists",
            )
        url = registry_url(repository, plan.region, self.settings.gcp_project)
        return RegistryResult(
            repository=repository.name,
            url=url,
            image=f"{url}/{plan.image_name}",
            created=repository.labels.get(JOB_LABEL) == _job_id(),
        )

    @activity.defn(name=ImageBuildSteps.DELETE_REGISTRY)
    async def delete_registry(self, plan: ImageBuildPlan) -> bool:
        what = f"deleting Artifact Registry repository {plan.image_name}"
        repository = await call_google(what, self.registry.get, plan.image_name, plan.region)
        if repository is None or repository.labels.get(JOB_LABEL) != _job_id():
            return False
        operation = await call_google(what, self.registry.delete, plan.image_name, plan.region)
        if operation is not None:
            await self._wait(what, operation)
        return True

    # 3. Cloud Build v2 connection and repository link

    @activity.defn(name=ImageBuildSteps.ENSURE_CONNECTION)
    async def ensure_connection(self, plan: ImageBuildPlan) -> ConnectionResult:
        """The owner's connection and the repository's link are shared by every image build of
        that owner or repository: the platform owns them (annotation `managed-by`), a build adopts
        them when they carry that mark, and no job's undo removes them."""
        cb, region = self.cloud_build, plan.region
        mark = {**PLATFORM_MARK, CREATED_BY_LABEL: _job_id()}
        connection_id = cbnames.connection_id(plan.owner)
        what = f"connecting Cloud Build to GitHub owner {plan.owner}"

        async def create_connection() -> Any:
            operation = await call_google(what, cb.create_connection, connection_id, region, mark)
            return await self._wait(what, operation)

        connection = await create_or_adopt(
            what,
            lambda: call_google(what, cb.get_connection, connection_id, region),
            create_connection,
        )
        if not is_platform_owned(connection.annotations):
            raise _final(
                f"Cloud Build connection {connection_id} exists but was not made by the platform "
                f"(no annotation {_mark_text()}); it is left alone",
                "AlreadyExists",
            )
        stage = connection.installation_state.stage.name
        if stage != "COMPLETE":
            state = connection.installation_state
            raise _final(
                f"Cloud Build connection {connection_id} is not ready ({stage}): "
                f"{state.message} {state.action_uri}".strip(),
                "ConnectionNotReady",
            )
        remote_uri = self._clone_url(plan)
        link_id = cbnames.linked_repository_id(plan.owner, plan.repo)
        name = f"{connection.name}/repositories/{link_id}"
        what = f"linking {plan.github_repo} to Cloud Build"

        async def link() -> Any:
            operation = await call_google(
                what, cb.link_repository, connection.name, link_id, remote_uri, mark
            )
            return await self._wait(what, operation)

        linked = await create_or_adopt(what, lambda: call_google(what, cb.get_linked, name), link)
        if linked.remote_uri != remote_uri:
            raise _final(
                f"Cloud Build repository {name} already links {linked.remote_uri}", "AlreadyExists"
            )
        if not is_platform_owned(linked.annotations):
            raise _final(
                f"Cloud Build repository {name} exists but was not linked by the platform (no "
                f"annotation {_mark_text()}); it is left alone",
                "AlreadyExists",
            )
        return ConnectionResult(
            connection=connection.name,
            repository=linked.name,
            created_connection=connection.annotations.get(CREATED_BY_LABEL) == _job_id(),
            created_repository=linked.annotations.get(CREATED_BY_LABEL) == _job_id(),
        )

    @activity.defn(name=ImageBuildSteps.DELETE_CONNECTION)
    async def delete_connection(self, plan: ImageBuildPlan) -> list[str]:
        """Removes nothing: the connection and the link belong to the platform, and another image
        build of the same owner or repository may be using them right now (a check before a delete
        would race its trigger). Kept for the jobs whose compensation still lists this step."""
        return []

    # 4. cloudbuild.yaml, committed and pushed

    @activity.defn(name=ImageBuildSteps.PUSH_BUILD_CONFIG)
    async def push_build_config(self, plan: ImageBuildPlan) -> BuildConfigResult:
        registry = await self.ensure_registry_url(plan)
        content = cbnames.build_config(registry, plan.dockerfile_path)
        async with self._working_copy(plan) as (dest, sha):
            return await self._commit_build_config(plan, registry, content, dest, sha)

    async def _commit_build_config(
        self, plan: ImageBuildPlan, registry: str, content: str, dest: Path, sha: str
    ) -> BuildConfigResult:
        trailer = f"{COMMIT_TRAILER}: {_job_id()}"
        current = await self._git("reading the build config", git.read, dest, plan.cloudbuild_path)
        if current == content:
            # Already there: written by an earlier attempt of this job, or by an earlier setup.
            ours = await self._git(
                "reading history", git.find_commit, dest, trailer, 1, self._token()
            )
            return BuildConfigResult(committed=ours is not None, commit_sha=sha)
        message = (
            f"Add Cloud Build config for image {plan.image_name}\n\n"
            f"Builds {plan.dockerfile_path} on every push to {plan.branch} and pushes the image "
            f"to {registry}.\nWritten by the ConneSkills platform (setup-image-build).\n\n{trailer}"
        )
        sha = await self._git(
            f"pushing {plan.cloudbuild_path} to {plan.github_repo}",
            git.commit_file,
            dest,
            plan.cloudbuild_path,
            content,
            message,
            plan.branch,
            self._token(),
        )
        return BuildConfigResult(committed=True, commit_sha=sha)

    async def ensure_registry_url(self, plan: ImageBuildPlan) -> str:
        what = f"reading Artifact Registry repository {plan.image_name}"
        repository = await call_google(what, self.registry.get, plan.image_name, plan.region)
        if repository is None:
            raise _final(f"{what}: it does not exist", "NotFound")
        return (
            f"{registry_url(repository, plan.region, self.settings.gcp_project)}/{plan.image_name}"
        )

    @activity.defn(name=ImageBuildSteps.REVERT_BUILD_CONFIG)
    async def revert_build_config(self, plan: ImageBuildPlan) -> str:
        """Pushes a revert of this job's commit (history is never rewritten): the file returns to
        what it was before, or goes away when the job added it."""
        async with self._working_copy(plan) as (dest, _):
            return await self._revert_build_config(plan, dest)

    async def _revert_build_config(self, plan: ImageBuildPlan, dest: Path) -> str:
        job_id = _job_id()
        trailer = f"{COMMIT_TRAILER}: {job_id}"
        sha = await self._git(
            "reading history", git.find_commit, dest, trailer, git.MAX_DEPTH, self._token()
        )
        if sha is None:
            return "no commit of this job"
        reverts = f"This reverts commit {sha}"
        if await self._git("reading history", git.message_mentions, dest, reverts):
            return f"already reverted {sha[:12]}"
        message = (
            f"Revert the Cloud Build config of image {plan.image_name}\n\n"
            f"This reverts commit {sha}: job {job_id} did not complete.\n\n"
            f"Conneskills-Reverts-Job-Id: {job_id}"
        )
        reverted = await self._git(
            f"reverting {sha[:12]} in {plan.github_repo}",
            git.revert,
            dest,
            sha,
            message,
            plan.branch,
            self._token(),
        )
        if not reverted:
            return f"left {sha[:12]} in place: later commits changed {plan.cloudbuild_path}"
        return f"reverted {sha[:12]}"

    # 5. Trigger

    @activity.defn(name=ImageBuildSteps.ENSURE_TRIGGER)
    async def ensure_trigger(self, inp: TriggerInput) -> TriggerResult:
        plan, cb = inp.plan, self.cloud_build
        name = trigger_name(plan.image_name)
        what = f"creating Cloud Build trigger {name}"
        branch = f"^{re.escape(plan.branch)}$"
        wanted = cb1.BuildTrigger(
            name=name,
            description=f"Builds {plan.image_name} on pushes to {plan.branch} (ConneSkills)",
            filename=plan.cloudbuild_path,
            tags=[TRIGGER_TAG, job_tag(_job_id())],
            repository_event_config=cb1.RepositoryEventConfig(
                repository=inp.linked_repository, push=cb1.PushFilter(branch=branch)
            ),
        )
        trigger = await create_or_adopt(
            what,
            lambda: call_google(what, cb.get_trigger, name, plan.region),
            lambda: call_google(what, cb.create_trigger, wanted, plan.region),
        )
        if not is_platform_trigger(trigger.tags):
            raise _final(
                f"Cloud Build trigger {name} exists but was not made by the platform (no tags "
                f"{TRIGGER_TAG} and job-<job id>); it is left alone",
                "AlreadyExists",
            )
        event = trigger.repository_event_config
        seen = (event.repository, event.push.branch, trigger.filename)
        if seen != (inp.linked_repository, branch, plan.cloudbuild_path):
            raise _final(
                f"Cloud Build trigger {name} already exists for {seen[0]} (branch {seen[1]}, "
                f"file {seen[2]})",
                "AlreadyExists",
            )
        return TriggerResult(
            name=trigger.name,
            id=trigger.id,
            resource_name=trigger.resource_name,
            created=job_tag(_job_id()) in trigger.tags,
        )

    @activity.defn(name=ImageBuildSteps.DELETE_TRIGGER)
    async def delete_trigger(self, plan: ImageBuildPlan) -> bool:
        name = trigger_name(plan.image_name)
        what = f"deleting Cloud Build trigger {name}"
        trigger = await call_google(what, self.cloud_build.get_trigger, name, plan.region)
        if trigger is None or job_tag(_job_id()) not in trigger.tags:
            return False
        return await call_google(what, self.cloud_build.delete_trigger, trigger.id, plan.region)

    # 6. First build

    @activity.defn(name=ImageBuildSteps.RUN_FIRST_BUILD)
    async def run_first_build(self, inp: FirstBuildInput) -> FirstBuildResult:
        """Starts a build and follows it to its end; the build id is heartbeated, so a retried
        attempt follows the same build, and a cancel cancels it."""
        plan, cb = inp.plan, self.cloud_build
        details = activity.info().heartbeat_details
        build_id = details[0] if details else None
        what = f"first build of {plan.image_name}"
        if build_id is None:
            build_id = await call_google(
                what, cb.run_trigger, inp.trigger_id, plan.region, plan.branch
            )
        try:
            while True:
                activity.heartbeat(build_id)
                build = await call_google(
                    what, cb.get_build, build_id, plan.region, beat=(build_id,)
                )
                if build.status.name in FINAL_STATUSES:
                    return FirstBuildResult(
                        build_id=build_id,
                        status=build.status.name,
                        detail=build.status_detail or None,
                        log_url=build.log_url or None,
                    )
                await asyncio.sleep(POLL_SECONDS)
        except asyncio.CancelledError:
            try:
                await asyncio.to_thread(cb.cancel_build, build_id, plan.region)
            except Exception as error:  # the cancel is reported; the activity still stops
                log.warning("could not cancel build", build_id=build_id, error=str(error))
            raise
