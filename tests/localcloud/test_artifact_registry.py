"""Artifact Registry v1 on the local cloud, driven by the real `ArtifactRegistryClient` (REST)."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import artifactregistry_v1 as ar

from providers.google.artifact_registry import ArtifactRegistry
from tests.localcloud import FAST_POLLING, unique


@pytest.fixture
def registry(localcloud_settings) -> ArtifactRegistry:
    return ArtifactRegistry(localcloud_settings)


def test_a_docker_repository_is_created_through_an_operation_and_read_back(registry):
    name = unique("repo")
    operation = registry.create_docker(name, "us-central1", {"job-id": "job-1"}, "images")
    assert not operation.done()
    created = operation.result(polling=FAST_POLLING)
    assert created.name.endswith(f"/locations/us-central1/repositories/{name}")
    assert created.format_ == ar.Repository.Format.DOCKER
    assert created.registry_uri == f"us-central1-docker.pkg.dev/conneskills-local/{name}"
    assert registry.get(name, "us-central1").labels == {"job-id": "job-1"}


def test_a_second_create_is_refused_as_already_existing(registry):
    name = unique("repo")
    registry.create_docker(name, "us-central1", {}, "").result(polling=FAST_POLLING)
    with pytest.raises(exceptions.Conflict):
        registry.create_docker(name, "us-central1", {}, "")


@pytest.mark.parametrize("repository_id", ["Upper", "1starts-with-digit", "ends-", "a" * 64])
def test_invalid_repository_ids_are_refused(registry, repository_id):
    with pytest.raises(exceptions.BadRequest):
        registry.create_docker(repository_id, "us-central1", {}, "")


def test_a_repository_without_a_format_is_refused(registry):
    with pytest.raises(exceptions.BadRequest):
        registry.client.create_repository(
            parent="projects/p/locations/us-central1",
            repository_id=unique("repo"),
            repository=ar.Repository(),
        )


def test_delete_removes_the_repository(registry):
    name = unique("repo")
    registry.create_docker(name, "us-central1", {}, "").result(polling=FAST_POLLING)
    registry.delete(name, "us-central1").result(polling=FAST_POLLING)
    assert registry.get(name, "us-central1") is None
    assert registry.delete(name, "us-central1") is None


def test_an_injected_operation_error_fails_the_create(registry, clean_faults):
    name = unique("repo")
    quota = clean_faults.inject_fault(
        fail_next=1,
        path_contains=f"repositoryId={name}",
        method="POST",
        operation_error={"code": 8, "message": "quota exceeded"},
    )
    operation = registry.create_docker(name, "us-central1", {}, "")
    with pytest.raises(exceptions.GoogleAPICallError, match="quota exceeded"):
        operation.result(polling=FAST_POLLING)
    assert clean_faults.fired(quota) == 1
