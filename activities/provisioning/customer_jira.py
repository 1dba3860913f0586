"""The Jira branch of a customer: its Service Management project (the portal), request types and
customer organization. Each step is idempotent: a retry finds what an earlier attempt made. The
project carries its job's and its customer's mark (its URL names both), so a compensation deletes
only its job's project and an offboarding only its customer's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import settle_in_thread
from contracts.provisioning.customer_marks import jira_url_is_customers, jira_url_made_by, job_mark
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
MAX_PROJECT_NAME = 80


async def jira_call(fn: Callable[..., T], *args) -> T:
    try:
        return await settle_in_thread(fn, *args)
    except JiraProblem as problem:
        raise ApplicationError(
            str(problem), type="JiraError", non_retryable=not problem.retryable
        ) from None


def project_name(name: str, prefix: str) -> str:
    """Jira's 80-character project name, unique like the prefix: the customer's name is cut, never
    the prefix, so two customers with the same long name still get different projects."""
    suffix = f" ({prefix})"
    return f"{name.strip()[: MAX_PROJECT_NAME - len(suffix)].rstrip()}{suffix}"


class CustomerJiraActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.jira = JiraPortals(settings)

    def _ours(self, project: dict | None, job_id: str, prefix: str) -> bool:
        url = (project or {}).get("url")
        return jira_url_made_by(url, self.settings.public_api_url, job_id, prefix)

    @activity.defn(name=CustomerJiraSteps.CHECK_FREE)
    async def check_free(self, inp: JiraProjectInput) -> None:
        """Refuses to adopt a project key or organization that exists and is not this job's."""
        names = CustomerNames(inp.prefix)
        project = await jira_call(self.jira.project, names.jira_project_key)
        if project is not None and not self._ours(project, inp.job_id, inp.prefix):
            raise ApplicationError(
                f"Jira project key {names.jira_project_key} is already taken",
                type="AlreadyExists",
                non_retryable=True,
            )
        if project is None and await jira_call(self.jira.organization_id, names.jira_organization):
            raise ApplicationError(
                f"Jira organization {names.jira_organization!r} already exists",
                type="AlreadyExists",
                non_retryable=True,
            )

    @activity.defn(name=CustomerJiraSteps.CREATE_PROJECT)
    async def create_project(self, inp: JiraProjectInput) -> JiraProject:
        key = CustomerNames(inp.prefix).jira_project_key
        project = await jira_call(self.jira.project, key)
        if project is None:
            created = await jira_call(
                self.jira.create_service_desk_project,
                key,
                project_name(inp.name, inp.prefix),
                job_mark(self.settings.public_api_url, inp.job_id, inp.prefix),
            )
            project_id = str(created["id"])
        elif self._ours(project, inp.job_id, inp.prefix):
            project_id = str(project["id"])
        else:
            raise ApplicationError(
                f"Jira project key {key} is already taken", type="AlreadyExists", non_retryable=True
            )
        sd_id = await jira_call(self.jira.service_desk_id, key)
        if sd_id is None:
            raise ApplicationError(f"project {key} has no service desk", type="JiraError")
        return JiraProject(project_key=key, project_id=project_id, sd_id=sd_id)

    @activity.defn(name=CustomerJiraSteps.CREATE_REQUEST_TYPES)
    async def create_request_types(self, inp: JiraProject) -> list[str]:
        return await jira_call(self.jira.ensure_request_types, inp.sd_id, inp.project_id)

    @activity.defn(name=CustomerJiraSteps.CREATE_ORGANIZATION)
    async def create_organization(self, inp: JiraServiceDeskInput) -> str:
        name = CustomerNames(inp.prefix).jira_organization
        return await jira_call(self.jira.create_organization, name, inp.sd_id)

    @activity.defn(name=CustomerJiraSteps.REMOVE)
    async def remove(self, inp: JiraRemoveInput) -> bool:
        """The organization, then the project. A compensation (`owner_job`) removes both only while
        the project carries its job's mark (the organization came after the project). An
        offboarding removes the organization named `<prefix> customers` (a name only that
        customer has), and the project only while it carries the customer's mark."""
        names = CustomerNames(inp.prefix)
        key = inp.project_key or names.jira_project_key
        project = await jira_call(self.jira.project, key)
        if inp.owner_job is not None:
            project_owned = org_owned = self._ours(project, inp.owner_job, inp.prefix)
        else:
            project_owned = jira_url_is_customers(
                (project or {}).get("url"),
                self.settings.public_api_url,
                inp.prefix,
                inp.onboarding_job,
            )
            org_owned = True
        if project is not None and not project_owned:
            activity.logger.info("Jira project left alone: it does not carry the owner's mark")
        removed = False
        if org_owned:
            by_name = await jira_call(self.jira.organization_id, names.jira_organization)
            # An offboarding ignores the record's organization id: only the customer's own name.
            org_id = by_name if inp.owner_job is None else (inp.organization_id or by_name)
            if org_id:
                removed = await jira_call(self.jira.delete_organization, org_id)
        if project_owned:
            removed = await jira_call(self.jira.delete_project, key) or removed
        return removed
