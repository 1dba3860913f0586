"""Pytest plugin: one local cloud process per test session, and a fixture that clears its faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.settings import Settings
from localcloud.testing import LocalCloud


@pytest.fixture(scope="session")
def localcloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    cloud = LocalCloud.start(tmp_path_factory.mktemp("localcloud"), lro_delay=0.2)
    try:
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture(scope="session")
def localcloud_settings(localcloud: LocalCloud) -> Settings:
    """Settings whose Google endpoints (and Proxmox VE) all point at the session's local cloud."""
    return Settings(
        cloud_run_endpoint=localcloud.url,
        secret_manager_endpoint=localcloud.url,
        iam_endpoint=localcloud.url,
        logging_endpoint=localcloud.url,
        artifact_registry_endpoint=localcloud.url,
        cloud_build_endpoint=localcloud.url,
        github_base_url=f"{localcloud.url}/git",
        github_app_installation_id=1,
        # Proxmox VE on the local cloud's TLS port, trusted through its CA.
        localcloud_proxmox_port=localcloud.proxmox_port,
        proxmox_ca_bundle=localcloud.ca_file,
        localcloud_aws_port=localcloud.aws_port,
    )


@pytest.fixture
def clean_faults(localcloud: LocalCloud) -> Iterator[LocalCloud]:
    """The session's local cloud; whatever faults the test injected are cleared afterwards."""
    try:
        yield localcloud
    finally:
        localcloud.clear_faults()
