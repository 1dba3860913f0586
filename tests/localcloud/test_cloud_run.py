"""Cloud Run Admin v2 on the local cloud, driven by the real `run_v2.ServicesClient` (REST)."""

from __future__ import annotations

import time

import httpx
import pytest
from google.api_core import exceptions
from google.cloud import run_v2
from google.iam.v1 import policy_pb2

from providers.google import clients as gcp
from providers.tls import client_context
from tests.localcloud import FAST_POLLING, service, unique


@pytest.fixture
def client(localcloud_settings) -> run_v2.ServicesClient:
    return gcp.cloud_run_services_client(localcloud_settings)


def _create(client, settings, name: str, image: str = "gcr.io/p/app:1") -> run_v2.Service:
    op = client.create_service(
        parent=gcp.location_path(settings), service=service(image), service_id=name
    )
    return op.result(polling=FAST_POLLING)


def test_create_returns_a_ready_service(client, localcloud_settings):
    name = unique("svc")
    created = _create(client, localcloud_settings, name)

    assert created.name == gcp.service_path(name, localcloud_settings)
    assert created.uri.startswith(f"https://{name}-") and created.uri.endswith("-uc.a.run.app")
    assert f"/revisions/{name}-00001-" in created.latest_ready_revision
    assert created.latest_ready_revision == created.latest_created_revision
    assert created.generation == 1 and created.observed_generation == 1
    assert created.terminal_condition.type_ == "Ready"
    assert created.terminal_condition.state == run_v2.Condition.State.CONDITION_SUCCEEDED
    assert not created.reconciling
    assert created.ingress == run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL
    limits = created.template.containers[0].resources.limits
    assert limits["cpu"] == "1000m" and limits["memory"] == "512Mi"
    assert created.template.max_instance_request_concurrency == 80
    assert created.template.containers[0].ports[0].container_port == 8080
    assert created.traffic_statuses[0].percent == 100
    assert created.etag and created.uid and created.create_time


def test_get_and_list(client, localcloud_settings):
    names = sorted(unique("lst") for _ in range(3))
    for name in names:
        _create(client, localcloud_settings, name)

    got = client.get_service(name=gcp.service_path(names[0], localcloud_settings))
    assert got.template.containers[0].image == "gcr.io/p/app:1"

    # page_size 2 forces the pager through nextPageToken.
    listed = client.list_services(
        request={"parent": gcp.location_path(localcloud_settings), "page_size": 2}
    )
    listed_names = [s.name.rsplit("/", 1)[-1] for s in listed]
    assert set(names) <= set(listed_names)
    assert listed_names == sorted(listed_names)


def test_update_increments_generation_and_revision(client, localcloud_settings):
    name = unique("upd")
    first = _create(client, localcloud_settings, name)

    first.template.containers[0].image = "gcr.io/p/app:2"
    first.ingress = run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_ONLY  # sent as an int
    updated = client.update_service(service=first).result(polling=FAST_POLLING)

    assert updated.generation == 2
    assert f"/revisions/{name}-00002-" in updated.latest_ready_revision
    assert updated.template.containers[0].image == "gcr.io/p/app:2"
    assert updated.uri == first.uri and updated.uid == first.uid
    assert updated.ingress == run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_ONLY

    # A change outside the template (labels) is a new generation but no new revision.
    updated.labels["team"] = "platform"
    relabelled = client.update_service(service=updated).result(polling=FAST_POLLING)
    assert relabelled.generation == 3
    assert relabelled.latest_ready_revision == updated.latest_ready_revision


def test_update_missing_service(client, localcloud_settings):
    ghost = service()
    ghost.name = gcp.service_path(unique("ghost"), localcloud_settings)
    with pytest.raises(exceptions.NotFound):
        client.update_service(service=ghost)

    created = client.update_service(request={"service": ghost, "allow_missing": True}).result(
        polling=FAST_POLLING
    )
    assert created.name == ghost.name and created.generation == 1


def test_delete_then_get_is_not_found(client, localcloud_settings):
    name = unique("del")
    _create(client, localcloud_settings, name)
    path = gcp.service_path(name, localcloud_settings)

    deleted = client.delete_service(name=path).result(polling=FAST_POLLING)

    assert deleted.name == path
    with pytest.raises(exceptions.NotFound) as err:
        client.get_service(name=path)
    assert err.value.response.json()["error"]["status"] == "NOT_FOUND"
    with pytest.raises(exceptions.NotFound):
        client.delete_service(name=path)


def test_create_twice_conflicts(client, localcloud_settings):
    name = unique("dup")
    _create(client, localcloud_settings, name)
    # Over REST, api_core maps HTTP 409 to Conflict (AlreadyExists' parent), not AlreadyExists.
    with pytest.raises(exceptions.Conflict) as err:
        _create(client, localcloud_settings, name)
    assert err.value.response.json()["error"]["status"] == "ALREADY_EXISTS"


@pytest.mark.parametrize("bad", ["Upper", "9lives", "ends-", "a" * 50, "under_score"])
def test_invalid_service_id(client, localcloud_settings, bad):
    # Over REST, HTTP 400 surfaces as BadRequest (InvalidArgument's parent).
    with pytest.raises(exceptions.BadRequest) as err:
        _create(client, localcloud_settings, bad)
    assert err.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_service_without_image_is_rejected(client, localcloud_settings):
    with pytest.raises(exceptions.BadRequest):
        client.create_service(
            parent=gcp.location_path(localcloud_settings),
            service=run_v2.Service(template=run_v2.RevisionTemplate()),
            service_id=unique("noimg"),
        )


def test_iam_policy_round_trip(client, localcloud_settings):
    name = unique("iam")
    _create(client, localcloud_settings, name)
    resource = gcp.service_path(name, localcloud_settings)

    policy = client.get_iam_policy(request={"resource": resource})
    assert not policy.bindings
    policy.bindings.append(policy_pb2.Binding(role="roles/run.invoker", members=["allUsers"]))
    saved = client.set_iam_policy(request={"resource": resource, "policy": policy})

    again = client.get_iam_policy(request={"resource": resource})
    assert [(b.role, list(b.members)) for b in again.bindings] == [
        ("roles/run.invoker", ["allUsers"])
    ]
    assert again.etag == saved.etag != policy.etag
    # Writing with the stale etag is a concurrent-change conflict.
    with pytest.raises(exceptions.Conflict):
        client.set_iam_policy(request={"resource": resource, "policy": policy})
    with pytest.raises(exceptions.NotFound):
        client.get_iam_policy(request={"resource": resource + "-missing"})


def test_operation_stays_pending_for_the_configured_delay(client, localcloud, localcloud_settings):
    name = unique("slow")
    localcloud.set_lro_delay(1.0)
    try:
        op = client.create_service(
            parent=gcp.location_path(localcloud_settings), service=service(), service_id=name
        )
        assert not op.done()
        pending = client.get_service(name=gcp.service_path(name, localcloud_settings))
        assert pending.reconciling
        assert pending.terminal_condition.state == run_v2.Condition.State.CONDITION_PENDING
        assert not pending.latest_ready_revision
        time.sleep(1.05)
        assert op.done()
        assert op.result().terminal_condition.state == run_v2.Condition.State.CONDITION_SUCCEEDED

        # Deletion, too, takes effect only when its operation is done.
        deletion = client.delete_service(name=pending.name)
        assert client.get_service(name=pending.name).name == pending.name
        assert not deletion.done()
        time.sleep(1.05)
        assert deletion.done()
        with pytest.raises(exceptions.NotFound):
            client.get_service(name=pending.name)
    finally:
        localcloud.set_lro_delay(0.2)


def test_wire_shapes(localcloud, client, localcloud_settings):
    """What the client does not show: camelCase JSON, int enums on request, Google error bodies."""
    name = unique("wire")
    _create(client, localcloud_settings, name)
    path = f"/v2/{gcp.service_path(name, localcloud_settings)}"
    with httpx.Client(verify=client_context(), base_url=localcloud.url) as http:
        as_ints = http.get(path, params={"$alt": "json;enum-encoding=int"}).json()
        as_names = http.get(path).json()
        missing = http.get(path + "-nope")
    assert as_ints["ingress"] == 1 and as_names["ingress"] == "INGRESS_TRAFFIC_ALL"
    assert as_names["terminalCondition"]["state"] == "CONDITION_SUCCEEDED"
    assert as_names["generation"] == "1"  # int64 travels as a string
    assert "reconciling" not in as_names  # false is omitted, as proto3 JSON does
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"
    assert missing.json()["error"]["code"] == 404
