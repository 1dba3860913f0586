"""The Jira branch of a customer: its Service Management project (the portal), request types and
customer organization. Each step is idempotent: a retry finds what an earlier attempt made. The
project carries its job's mark (its URL is the job's), so a compensation deletes only its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import settle_in_thread
from contracts.provisioning.customers import (
    CustomerNames,
    JiraProject,
    JiraProjectInput,
    JiraRemoveInput,
    JiraServiceDeskInput,
)
from contracts.provisioning.names import CustomerJiraSteps
from core.settings import Settings
from providers.jira import JiraPortals, JiraProblem

T = TypeVar("T")


def job_mark(settings: Settings, job_id: str) -> str:
    return f"{settings.public_api_url.rstrip('/')}/api/v1/jobs/{job_id}"


async def _jira(fn: Callable[..., T], *args) -> T:
    try:
        return await settle_in_thread(fn, *args)
    except JiraProblem as problem:
        raise ApplicationError(
            str(problem), type="JiraError", non_retryable=not problem.retryable
        ) from None


class CustomerJiraActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.jira = JiraPortals(settings)

    def _ours(self, project: dict | None, job_id: str) -> bool:
        return project is not None and project.get("url") == job_mark(self.settings, job_id)

    @activity.defn(name=CustomerJiraSteps.CHECK_FREE)
    async def check_free(self, inp: JiraProjectInput) -> None:
        """Refuses to adopt a project key or organization that exists and is not this job's."""
        names = CustomerNames(inp.prefix)
        project = await _jira(self.jira.project, names.jira_project_key)
        if project is not None and not self._ours(project, inp.job_id):
            raise ApplicationError(
                f"Jira project key {names.jira_project_key} is already taken",
                type="AlreadyExists",
                non_retryable=True,
            )
        if project is None and await _jira(self.jira.organization_id, names.jira_organization):
            raise ApplicationError(
                f"Jira organization {names.jira_organization!r} already exists",
                type="AlreadyExists",
                non_retryable=True,
            )

    @activity.defn(name=CustomerJiraSteps.CREATE_PROJECT)
    async def create_project(self, inp: JiraProjectInput) -> JiraProject:
        key = CustomerNames(inp.prefix).jira_project_key
        project = await _jira(self.jira.project, key)
        if project is None:
            created = await _jira(
                self.jira.create_service_desk_project,
                key,
                f"{inp.name} ({inp.prefix})"[:80],
                job_mark(self.settings, inp.job_id),
            )
            project_id = str(created["id"])
        elif self._ours(project, inp.job_id):
            project_id = str(project["id"])
        else:
            raise ApplicationError(
                f"Jira project key {key} is already taken", type="AlreadyExists", non_retryable=True
            )
        sd_id = await _jira(self.jira.service_desk_id, key)
        if sd_id is None:
            raise ApplicationError(f"project {key} has no service desk", type="JiraError")
        return JiraProject(project_key=key, project_id=project_id, sd_id=sd_id)

    @activity.defn(name=CustomerJiraSteps.CREATE_REQUEST_TYPES)
    async def create_request_types(self, inp: JiraProject) -> list[str]:
        return await _jira(self.jira.ensure_request_types, inp.sd_id, inp.project_id)

    @activity.defn(name=CustomerJiraSteps.CREATE_ORGANIZATION)
    async def create_organization(self, inp: JiraServiceDeskInput) -> str:
        name = CustomerNames(inp.prefix).jira_organization
        return await _jira(self.jira.create_organization, name, inp.sd_id)

    @activity.defn(name=CustomerJiraSteps.REMOVE)
    async def remove(self, inp: JiraRemoveInput) -> bool:
        """The organization, then the project. With `owner_job`, only while the project is that
        job's (the organization is the customer's by name and came with the project)."""
        names = CustomerNames(inp.prefix)
        key = inp.project_key or names.jira_project_key
        project = await _jira(self.jira.project, key)
        if inp.owner_job is not None and not self._ours(project, inp.owner_job):
            # No project of this job: the job made no organization either (it comes after).
            activity.logger.info("Jira project left alone: not this job's")
            return False
        org_id = inp.organization_id or await _jira(
            self.jira.organization_id, names.jira_organization
        )
        removed = False
        if org_id:
            removed = await _jira(self.jira.delete_organization, org_id) or removed
        if project is not None:
            removed = await _jira(self.jira.delete_project, key) or removed
        return removed
