"""State survives a restart on the same data dir; reset wipes it."""

from __future__ import annotations

import pytest
from google.api_core import exceptions

from core.settings import Settings
from localcloud.testing import LocalCloud
from providers.google import clients as gcp
from tests.localcloud import FAST_POLLING, service


def test_restart_keeps_services_and_secrets(tmp_path):
    cloud = LocalCloud.start(tmp_path / "state", lro_delay=0.0)
    try:
        settings = Settings(cloud_run_endpoint=cloud.url, secret_manager_endpoint=cloud.url)
        run = gcp.cloud_run_services_client(settings)
        run.create_service(
            parent=gcp.location_path(settings), service=service(), service_id="kept"
        ).result(polling=FAST_POLLING)
        secrets = gcp.secret_manager_client(settings)
        secret = secrets.create_secret(
            parent="projects/p", secret_id="kept", secret={"replication": {"automatic": {}}}
        )
        secrets.add_secret_version(parent=secret.name, payload={"data": b"still here"})
    finally:
        cloud.stop()

    cloud = LocalCloud.start(tmp_path / "state", lro_delay=0.0)
    try:
        settings = Settings(cloud_run_endpoint=cloud.url, secret_manager_endpoint=cloud.url)
        run = gcp.cloud_run_services_client(settings)
        secrets = gcp.secret_manager_client(settings)
        kept = run.get_service(name=gcp.service_path("kept", settings))
        assert kept.terminal_condition.state.name == "CONDITION_SUCCEEDED"
        value = secrets.access_secret_version(name="projects/p/secrets/kept/versions/latest")
        assert value.payload.data == b"still here"

        cloud.reset()
        with pytest.raises(exceptions.NotFound):
            run.get_service(name=gcp.service_path("kept", settings))
    finally:
        cloud.stop()
