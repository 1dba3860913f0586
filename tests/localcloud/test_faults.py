"""Fault injection and the `/_localcloud/` control plane."""

from __future__ import annotations

import time

import httpx
import pytest
from google.api_core import exceptions

from localcloud.apis.litellm import MASTER_KEY
from localcloud.app import discover_apis
from providers.google import clients as gcp
from providers.tls import client_context
from tests.localcloud import FAST_POLLING, service, unique


@pytest.fixture
def run(localcloud_settings):
    return gcp.cloud_run_services_client(localcloud_settings)


def _create_op(run, settings, name: str):
    return run.create_service(
        parent=gcp.location_path(settings), service=service(), service_id=name, retry=None
    )


def test_fail_next_two_then_succeed(clean_faults, run, localcloud_settings):
    name = unique("flaky")
    fault = clean_faults.inject_fault(
        fail_next=2, code=503, method="POST", path_contains=f"serviceId={name}"
    )

    for _ in range(2):
        with pytest.raises(exceptions.ServiceUnavailable):
            _create_op(run, localcloud_settings, name)
    assert _create_op(run, localcloud_settings, name).result(polling=FAST_POLLING).uri
    assert clean_faults.faults() == []
    assert clean_faults.fired(fault) == 2


def test_a_fault_scoped_to_one_jobs_name_leaves_another_jobs_requests_alone(
    clean_faults, run, localcloud_settings
):
    mine, other = unique("mine"), unique("other")
    # A create names its service only in the query: faults match the path with its query,
    # by the same rule as the request counter.
    fault = clean_faults.inject_fault(fail_next=1, code=503, method="POST", path_contains=mine)
    assert _create_op(run, localcloud_settings, other).result(polling=FAST_POLLING).uri
    assert clean_faults.fired(fault) == 0
    with pytest.raises(exceptions.ServiceUnavailable):
        _create_op(run, localcloud_settings, mine)
    assert clean_faults.fired(fault) == 1
    assert clean_faults.request_count("POST", mine) == 1
    clean_faults.clear_faults()
    assert clean_faults.fired(fault) == 1  # still readable once cleared


def test_a_fault_on_a_body_text_fails_only_the_requests_whose_body_carries_it(clean_faults):
    mine, other = unique("mine"), unique("other")
    fault = clean_faults.inject_fault(
        fail_next=1, code=503, method="POST", path_contains="/litellm/", body_contains=mine
    )
    auth = {"Authorization": f"Bearer {MASTER_KEY}"}
    with httpx.Client(
        verify=client_context(), base_url=f"{clean_faults.url}/litellm", headers=auth
    ) as http:
        assert http.post("/user/new", json={"user_id": other}).status_code == 200
        assert clean_faults.fired(fault) == 0
        assert http.post("/user/new", json={"user_id": mine}).status_code == 503
    assert clean_faults.fired(fault) == 1


def test_a_persistent_latency_counts_every_request_it_slowed(
    clean_faults, run, localcloud_settings
):
    name = unique("slowed")
    _create_op(run, localcloud_settings, name).result(polling=FAST_POLLING)
    fault = clean_faults.inject_fault(fail_next=0, latency_ms=50, method="GET", path_contains=name)
    for _ in range(3):
        run.get_service(name=gcp.service_path(name, localcloud_settings))
    assert clean_faults.fired(fault) == 3


def test_default_retry_of_get_rides_out_one_503(clean_faults, run, localcloud_settings):
    name = unique("retry")
    _create_op(run, localcloud_settings, name).result(polling=FAST_POLLING)
    fault = clean_faults.inject_fault(fail_next=1, code=503, method="GET", path_contains=f"/{name}")
    # get_service's default retry covers ServiceUnavailable (create_service has no retry).
    assert run.get_service(name=gcp.service_path(name, localcloud_settings)).name
    assert clean_faults.fired(fault) == 1


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (429, exceptions.TooManyRequests),
        (500, exceptions.InternalServerError),
        (403, exceptions.Forbidden),
        ("UNAVAILABLE", exceptions.ServiceUnavailable),
    ],
)
def test_fault_codes_map_to_client_exceptions(clean_faults, run, localcloud_settings, code, error):
    # A listing names no service: its path is the only one ending in `/services?`.
    fault = clean_faults.inject_fault(
        fail_next=1, code=code, method="GET", path_contains="/services?"
    )
    with pytest.raises(error):
        run.list_services(parent=gcp.location_path(localcloud_settings), retry=None)
    assert clean_faults.fired(fault) == 1


def test_operation_error_fails_inside_the_lro(clean_faults, run, localcloud_settings):
    name = unique("doomed")
    fault = clean_faults.inject_fault(
        fail_next=1,
        operation_error={"code": 9, "message": "container failed to start"},
        path_contains=f"serviceId={name}",
    )
    op = _create_op(run, localcloud_settings, name)
    with pytest.raises(exceptions.FailedPrecondition, match="container failed to start"):
        op.result(polling=FAST_POLLING)
    assert clean_faults.fired(fault) == 1

    # As on Cloud Run, the service exists but is not ready.
    failed = run.get_service(name=gcp.service_path(name, localcloud_settings))
    assert failed.terminal_condition.state.name == "CONDITION_FAILED"
    assert "container failed to start" in failed.terminal_condition.message
    # The fault is used up: the next deploy succeeds.
    assert _create_op(run, localcloud_settings, unique("fine")).result(polling=FAST_POLLING)


def test_latency(clean_faults, run, localcloud_settings):
    fault = clean_faults.inject_fault(
        fail_next=0, latency_ms=300, method="GET", path_contains="/services?"
    )
    started = time.monotonic()
    run.list_services(parent=gcp.location_path(localcloud_settings))
    assert time.monotonic() - started >= 0.3
    assert clean_faults.fired(fault) == 1
    assert clean_faults.faults()[0]["latency_ms"] == 300  # persistent until cleared
    clean_faults.clear_faults()
    assert clean_faults.faults() == []


def test_control_plane(localcloud):
    with httpx.Client(verify=client_context(), base_url=localcloud.url) as http:
        assert http.get("/_localcloud/health").status_code == 200
        assert http.put("/_localcloud/config", json={"lro_delay_seconds": -1}).status_code == 400
        assert (
            http.post("/_localcloud/faults", json={"fail_next": 1, "bogus": 1}).status_code == 400
        )
        assert http.get("/_localcloud/faults/999999").status_code == 404
    assert localcloud.config()["lro_delay_seconds"] == 0.2


def test_every_api_module_is_discovered():
    names = {m.__name__.rsplit(".", 1)[-1] for m in discover_apis()}
    assert {"cloud_run", "cloud_logging", "secret_manager", "iam_admin"} <= names
