"""Artifact Registry v1 through the official `artifactregistry_v1` client: the Docker repository an
image build pushes to. Blocking (no async REST transport): callers run these in a thread."""

from __future__ import annotations

from google.api_core import exceptions as gexc
from google.api_core.operation import Operation
from google.cloud import artifactregistry_v1 as ar

from contracts.provisioning.image_builds import artifact_registry_url
from core.settings import Settings, get_settings
from providers.google.clients import location_path, rest_client


class ArtifactRegistry:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    @property
    def client(self) -> ar.ArtifactRegistryClient:
        return rest_client(ar.ArtifactRegistryClient, "artifactregistry", self.settings)

    def path(self, repository_id: str, region: str) -> str:
        return f"{location_path(self.settings, region)}/repositories/{repository_id}"

    def get(self, repository_id: str, region: str) -> ar.Repository | None:
        try:
            return self.client.get_repository(name=self.path(repository_id, region), retry=None)
        except gexc.NotFound:
            return None

    def create_docker(
        self, repository_id: str, region: str, labels: dict[str, str], description: str
    ) -> Operation:
        repository = ar.Repository(
            format_=ar.Repository.Format.DOCKER, labels=labels, description=description
        )
        return self.client.create_repository(
            parent=location_path(self.settings, region),
            repository_id=repository_id,
            repository=repository,
            retry=None,
        )

    def list(self, region: str) -> list[ar.Repository]:
        parent = location_path(self.settings, region)
        return list(self.client.list_repositories(parent=parent, retry=None))

    def delete(self, repository_id: str, region: str) -> Operation | None:
        try:
            return self.client.delete_repository(name=self.path(repository_id, region), retry=None)
        except gexc.NotFound:
            return None

    def docker_images(self, repository_id: str, region: str) -> list[ar.DockerImage]:
        parent = self.path(repository_id, region)
        return list(self.client.list_docker_images(parent=parent, retry=None))


def registry_url(repository: ar.Repository, region: str, project: str) -> str:
    """`REGION-docker.pkg.dev/PROJECT/REPO`: where images of the repository are pushed."""
    if repository.registry_uri:
        return repository.registry_uri
    return artifact_registry_url(region, project, repository.name.rsplit("/", 1)[-1])
