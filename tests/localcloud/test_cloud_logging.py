"""Cloud Logging v2 on the local cloud, driven by the real `google.cloud.logging.Client` (HTTP)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from google.cloud.logging_v2 import DESCENDING

from providers.google import clients as gcp
from providers.tls import client_context
from tests.localcloud import FAST_POLLING, service, unique


@pytest.fixture
def client(localcloud_settings):
    return gcp.cloud_logging_client(localcloud_settings)


def test_service_lifecycle_is_logged(client, localcloud_settings):
    name = unique("logged")
    run = gcp.cloud_run_services_client(localcloud_settings)
    run.create_service(
        parent=gcp.location_path(localcloud_settings), service=service(), service_id=name
    ).result(polling=FAST_POLLING)

    entries = list(
        client.list_entries(
            filter_=f'resource.type="cloud_run_revision" AND resource.labels.service_name="{name}"'
        )
    )

    texts = [e.payload for e in entries if isinstance(e.payload, str)]
    assert any(t.startswith("Deploying revision") for t in texts)
    assert f"Ready condition status changed to True for Service {name}." in texts
    assert any(e.http_request and e.http_request["status"] == 200 for e in entries)
    audit = [e for e in entries if isinstance(e.payload, dict) and "methodName" in e.payload]
    assert audit[0].payload["methodName"] == "google.cloud.run.v2.Services.CreateService"
    labels = entries[0].resource.labels
    assert labels["service_name"] == name
    assert labels["location"] == localcloud_settings.gcp_region
    assert labels["project_id"] == localcloud_settings.gcp_project
    assert labels["revision_name"].startswith(f"{name}-00001-")
    timestamps = [e.timestamp for e in entries]
    assert timestamps == sorted(timestamps)


def test_write_and_read_back(client):
    logger = client.logger(unique("app-log"))
    logger.log_text("starting", severity="INFO")
    logger.log_text("disk almost full", severity="WARNING")
    logger.log_struct({"event": "crash", "code": 3}, severity="ERROR")

    everything = list(logger.list_entries())
    assert [e.severity for e in everything][-3:] == ["INFO", "WARNING", "ERROR"]

    serious = list(logger.list_entries(filter_="severity>=WARNING", order_by=DESCENDING))
    assert [e.payload for e in serious] == [{"event": "crash", "code": 3}, "disk almost full"]
    assert all(e.timestamp.tzinfo is not None for e in serious)

    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert list(logger.list_entries(filter_=f'timestamp>="{future}"')) == []


def test_paging(client):
    logger = client.logger(unique("paged"))
    client.logging_api.write_entries(
        [{"textPayload": f"line {i}"} for i in range(7)],
        logger_name=logger.full_name,
        resource={"type": "global"},
    )
    lines = [e.payload for e in logger.list_entries(page_size=3)]
    assert lines == [f"line {i}" for i in range(7)]


def test_bad_filter_is_invalid_argument(localcloud):
    body = {"resourceNames": ["projects/p"], "filter": 'resource.type="x" AND ('}
    response = httpx.post(f"{localcloud.url}/v2/entries:list", json=body, verify=client_context())
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
