"""Cloud Build through the official clients: v2 (`cloudbuild_v2`) host connections and linked
repositories, v1 (`cloudbuild_v1`) triggers and builds, the names an image build gives them, and the
`cloudbuild.yaml` it writes. Blocking (no async REST transport): callers run these in a thread."""

from __future__ import annotations

import re

from google.api_core import exceptions as gexc
from google.api_core.operation import Operation
from google.cloud.devtools import cloudbuild_v1 as cb1
from google.cloud.devtools import cloudbuild_v2 as cb2

from core.settings import Settings, get_settings
from providers.google.clients import location_path, rest_client

FINAL_STATUSES = {"SUCCESS", "FAILURE", "INTERNAL_ERROR", "TIMEOUT", "CANCELLED", "EXPIRED"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:60] or "x"


def connection_id(owner: str) -> str:
    """One connection per GitHub owner: every repository of that owner is linked through it."""
    return f"github-{_slug(owner)}"[:63]


def linked_repository_id(owner: str, repo: str) -> str:
    return f"{_slug(owner)}-{_slug(repo)}"[:63].strip("-")


def build_config(image: str, dockerfile_path: str) -> str:
    """Build the image tagged with the commit and `latest`, then push every tag. Deterministic for
    the same request, so a repeated setup finds the file unchanged and commits nothing."""
    return (
        "# Written by the ConneSkills platform (setup-image-build).\n"
        "steps:\n"
        "  - name: gcr.io/cloud-builders/docker\n"
        "    args:\n"
        "      - build\n"
        "      - -f\n"
        f"      - {dockerfile_path}\n"
        "      - -t\n"
        f"      - {image}:$COMMIT_SHA\n"
        "      - -t\n"
        f"      - {image}:latest\n"
        "      - .\n"
        "  - name: gcr.io/cloud-builders/docker\n"
        "    args:\n"
        "      - push\n"
        "      - --all-tags\n"
        f"      - {image}\n"
        "images:\n"
        f"  - {image}:$COMMIT_SHA\n"
        f"  - {image}:latest\n"
    )


class CloudBuild:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    @property
    def builds(self) -> cb1.CloudBuildClient:
        return rest_client(cb1.CloudBuildClient, "cloudbuild", self.settings)

    @property
    def repositories(self) -> cb2.RepositoryManagerClient:
        return rest_client(cb2.RepositoryManagerClient, "cloudbuild", self.settings)

    def location(self, region: str) -> str:
        return location_path(self.settings, region)

    # v2: connections and linked repositories

    def get_connection(self, connection: str, region: str) -> cb2.Connection | None:
        name = f"{self.location(region)}/connections/{connection}"
        try:
            return self.repositories.get_connection(name=name, retry=None)
        except gexc.NotFound:
            return None

    def create_connection(
        self, connection: str, region: str, annotations: dict[str, str]
    ) -> Operation:
        settings = self.settings
        secret = f"projects/{settings.gcp_project}/secrets/{settings.github_token_secret}"
        github = cb2.GitHubConfig(
            authorizer_credential=cb2.OAuthCredential(
                oauth_token_secret_version=f"{secret}/versions/latest"
            ),
            app_installation_id=settings.resolved_github_installation_id or 0,
        )
        return self.repositories.create_connection(
            parent=self.location(region),
            connection_id=connection,
            connection=cb2.Connection(github_config=github, annotations=annotations),
            retry=None,
        )

    def delete_connection(self, name: str) -> Operation | None:
        try:
            return self.repositories.delete_connection(name=name, retry=None)
        except gexc.NotFound:
            return None

    def linked_repositories(self, connection_name: str) -> list[cb2.Repository]:
        return list(self.repositories.list_repositories(parent=connection_name, retry=None))

    def get_linked(self, name: str) -> cb2.Repository | None:
        try:
            return self.repositories.get_repository(name=name, retry=None)
        except gexc.NotFound:
            return None

    def link_repository(
        self, connection_name: str, repository_id: str, remote_uri: str, annotations: dict
    ) -> Operation:
        return self.repositories.create_repository(
            parent=connection_name,
            repository_id=repository_id,
            repository=cb2.Repository(remote_uri=remote_uri, annotations=annotations),
            retry=None,
        )

    def unlink_repository(self, name: str) -> Operation | None:
        try:
            return self.repositories.delete_repository(name=name, retry=None)
        except gexc.NotFound:
            return None

    # v1: triggers and builds (regional, as 2nd-gen repositories require)

    def get_trigger(self, name_or_id: str, region: str) -> cb1.BuildTrigger | None:
        try:
            return self.builds.get_build_trigger(
                request={"name": f"{self.location(region)}/triggers/{name_or_id}"}, retry=None
            )
        except gexc.NotFound:
            return None

    def list_triggers(self, region: str) -> list[cb1.BuildTrigger]:
        request = {"project_id": self.settings.gcp_project, "parent": self.location(region)}
        return list(self.builds.list_build_triggers(request=request, retry=None))

    def create_trigger(self, trigger: cb1.BuildTrigger, region: str) -> cb1.BuildTrigger:
        return self.builds.create_build_trigger(
            parent=self.location(region), trigger=trigger, retry=None
        )

    def delete_trigger(self, trigger_id: str, region: str) -> bool:
        try:
            self.builds.delete_build_trigger(
                request={"name": f"{self.location(region)}/triggers/{trigger_id}"}, retry=None
            )
            return True
        except gexc.NotFound:
            return False

    def run_trigger(self, trigger_id: str, region: str, branch: str) -> str:
        """Starts a build of `branch`; returns the build id (the operation metadata has it at once)."""
        operation = self.builds.run_build_trigger(
            request=cb1.RunBuildTriggerRequest(
                name=f"{self.location(region)}/triggers/{trigger_id}",
                source=cb1.RepoSource(branch_name=branch),
            ),
            retry=None,
        )
        return operation.metadata.build.id

    def get_build(self, build_id: str, region: str) -> cb1.Build:
        return self.builds.get_build(
            request={"name": f"{self.location(region)}/builds/{build_id}"}, retry=None
        )

    def cancel_build(self, build_id: str, region: str) -> None:
        self.builds.cancel_build(
            request={"name": f"{self.location(region)}/builds/{build_id}"}, retry=None
        )
