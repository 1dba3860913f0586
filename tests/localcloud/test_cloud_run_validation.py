"""The Cloud Run emulator refuses, on create and update, what real Cloud Run refuses (issue 7, item 8).

Driven by the real `run_v2.ServicesClient` (REST): each refusal is a 400 `INVALID_ARGUMENT` naming
the field, and nothing is created or changed.
"""

from __future__ import annotations

import httpx
import pytest
from google.api_core import exceptions
from google.cloud import run_v2
from google.protobuf import duration_pb2

from providers.google import clients as gcp
from providers.tls import client_context
from tests.localcloud import FAST_POLLING, service, unique

DIGEST = "sha256:" + "a" * 64


@pytest.fixture
def client(localcloud_settings) -> run_v2.ServicesClient:
    return gcp.cloud_run_services_client(localcloud_settings)


def _container(**fields) -> run_v2.Container:
    return run_v2.Container(
        image=fields.pop("image", "us-docker.pkg.dev/cloudrun/container/hello"), **fields
    )


def _limits(cpu: str = "1", memory: str = "512Mi") -> run_v2.ResourceRequirements:
    return run_v2.ResourceRequirements(limits={"cpu": cpu, "memory": memory})


def _service(container: run_v2.Container | None = None, **template) -> run_v2.Service:
    return run_v2.Service(
        template=run_v2.RevisionTemplate(containers=[container or _container()], **template)
    )


def _refused(client, settings, svc: run_v2.Service, field: str, region: str | None = None) -> dict:
    """Create must answer 400 INVALID_ARGUMENT naming `field`, and leave no service behind."""
    name = unique("bad")
    with pytest.raises(exceptions.BadRequest) as err:
        client.create_service(
            parent=gcp.location_path(settings, region), service=svc, service_id=name
        )
    assert isinstance(err.value, exceptions.InvalidArgument | exceptions.BadRequest)
    error = err.value.response.json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert field in error["message"], error["message"]
    with pytest.raises(exceptions.NotFound):
        client.get_service(name=gcp.service_path(name, settings, region))
    return error


BAD_IMAGES = [
    "us-docker.pkg.dev/cloudrun/container/hello\n",
    "us-docker.pkg.dev/cloudrun/container/hello latest",
    " gcr.io/p/app",
    "gcr.io/p/app\x00",
    "gcr.io/p/App",
    "gcr.io/p/app:",
    "gcr.io/p/app:bad tag",
    "gcr.io/p/app:" + "t" * 129,
    "gcr.io/p/app@sha256:1234",
    "gcr.io/p/app@md5:" + "a" * 32,
    "gcr.io//app",
    "gcr.io/p/" + "a" * 300,
    "ghcr.io/org/app:1",
    "quay.io/org/app",
    "https://gcr.io/p/app",
    "'gcr.io/p/app'",
]


@pytest.mark.parametrize("image", BAD_IMAGES)
def test_bad_image_is_refused(client, localcloud_settings, image):
    svc = _service(_container(image=image))
    error = _refused(client, localcloud_settings, svc, "service.template.containers[0].image")
    assert error["message"].startswith("Violation in CreateServiceRequest.")
    violation = error["details"][0]
    assert violation["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert violation["fieldViolations"][0]["field"].endswith("template.containers[0].image")


GOOD_IMAGES = [
    "us-docker.pkg.dev/cloudrun/container/hello",
    "us-docker.pkg.dev/cloudrun/container/hello:latest",
    "europe-west1-docker.pkg.dev/my-project/repo/app:v1.2.3",
    "gcr.io/p/app:1",
    "eu.gcr.io/my-project/app@" + DIGEST,
    "gcr.io/p/app:1@" + DIGEST,
    "nginx",
    "library/nginx:1.27-alpine",
    "docker.io/library/nginx:stable",
]


@pytest.mark.parametrize("image", GOOD_IMAGES)
def test_valid_images_are_accepted(client, localcloud_settings, image):
    created = client.create_service(
        parent=gcp.location_path(localcloud_settings),
        service=service(image),
        service_id=unique("img"),
    ).result(polling=FAST_POLLING)
    assert created.template.containers[0].image == image


@pytest.mark.parametrize(
    ("cpu", "memory", "field"),
    [
        ("1", "lots", "resources.limits.memory"),
        ("1", "1TB", "resources.limits.memory"),
        ("1", "64Mi", "resources.limits.memory"),
        ("8", "33Gi", "resources.limits.memory"),
        ("1", "-512Mi", "resources.limits.memory"),
        ("lots", "512Mi", "resources.limits.cpu"),
        ("16", "16Gi", "resources.limits.cpu"),
        ("3", "2Gi", "resources.limits.cpu"),
        ("1500m", "1Gi", "resources.limits.cpu"),
        ("0.05", "256Mi", "resources.limits.cpu"),
        ("0", "512Mi", "resources.limits.cpu"),
        ("1", "8Gi", "resources.limits"),  # more than 4 GiB needs 2 CPUs
        ("4", "1Gi", "resources.limits"),  # 4 CPUs need 2 GiB
    ],
)
def test_bad_resources_are_refused(client, localcloud_settings, cpu, memory, field):
    svc = _service(_container(resources=_limits(cpu, memory)))
    _refused(client, localcloud_settings, svc, f"template.containers[0].{field}")


def test_fractional_cpu_needs_concurrency_one(client, localcloud_settings):
    svc = _service(_container(resources=_limits("500m", "512Mi")))
    _refused(client, localcloud_settings, svc, "template.max_instance_request_concurrency")

    fine = _service(
        _container(resources=_limits("0.5", "512Mi")), max_instance_request_concurrency=1
    )
    created = client.create_service(
        parent=gcp.location_path(localcloud_settings), service=fine, service_id=unique("frac")
    ).result(polling=FAST_POLLING)
    assert created.template.containers[0].resources.limits["cpu"] == "0.5"


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [("1", "128Mi"), ("1000m", "4Gi"), ("2", "8Gi"), ("8", "32Gi"), ("4", "2Gi"), ("2", "3G")],
)
def test_valid_resources_are_accepted(client, localcloud_settings, cpu, memory):
    svc = _service(_container(resources=_limits(cpu, memory)))
    created = client.create_service(
        parent=gcp.location_path(localcloud_settings), service=svc, service_id=unique("res")
    ).result(polling=FAST_POLLING)
    assert created.template.containers[0].resources.limits["memory"] == memory


def test_unknown_region_is_refused(client, localcloud_settings):
    error = _refused(client, localcloud_settings, service(), "mars-north1", region="mars-north1")
    assert error["message"] == "Location mars-north1 is not valid"


def test_other_real_region_is_accepted(client, localcloud_settings):
    created = client.create_service(
        parent=gcp.location_path(localcloud_settings, "europe-west4"),
        service=service(),
        service_id=unique("eu"),
    ).result(polling=FAST_POLLING)
    assert "/locations/europe-west4/" in created.name


@pytest.mark.parametrize(
    "account",
    [
        '"runner@my-project.iam.gserviceaccount.com"',
        "runner",
        "runner@my-project.iam.gserviceaccount.com ",
        "runner@gmail.com",
        "Runner@my-project.iam.gserviceaccount.com",
    ],
)
def test_bad_service_account_is_refused(client, localcloud_settings, account):
    svc = _service(service_account=account)
    _refused(client, localcloud_settings, svc, "template.service_account")


@pytest.mark.parametrize(
    "env_name",
    ["PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION", "X_GOOGLE_FOO", "A B", "1X", "A=B"],
)
def test_bad_env_var_name_is_refused(client, localcloud_settings, env_name):
    svc = _service(
        _container(
            env=[run_v2.EnvVar(name="OK", value="1"), run_v2.EnvVar(name=env_name, value="x")]
        )
    )
    _refused(client, localcloud_settings, svc, "template.containers[0].env[1].name")


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ({"max_instance_request_concurrency": 1001}, "template.max_instance_request_concurrency"),
        ({"max_instance_request_concurrency": -1}, "template.max_instance_request_concurrency"),
        ({"timeout": duration_pb2.Duration(seconds=3601)}, "template.timeout"),
        ({"timeout": duration_pb2.Duration(seconds=-5)}, "template.timeout"),
        (
            {"scaling": run_v2.RevisionScaling(min_instance_count=5, max_instance_count=2)},
            "template.scaling.min_instance_count",
        ),
        (
            {"scaling": run_v2.RevisionScaling(min_instance_count=-1)},
            "template.scaling.min_instance_count",
        ),
        ({"labels": {"Team": "x"}}, "template.labels"),
    ],
)
def test_bad_template_settings_are_refused(client, localcloud_settings, template, field):
    _refused(client, localcloud_settings, _service(**template), field)


@pytest.mark.parametrize("port", [70000, -1])
def test_bad_container_port_is_refused(client, localcloud_settings, port):
    svc = _service(_container(ports=[run_v2.ContainerPort(container_port=port)]))
    _refused(client, localcloud_settings, svc, "template.containers[0].ports[0].container_port")


@pytest.mark.parametrize(
    "labels",
    [
        {"Team": "core"},
        {"team": "Core"},
        {"9team": "core"},
        {"team": "a" * 64},
        {"k" * 64: "v"},
        {"team": "core platform"},
        {"team.name": "core"},
        {f"k{i}": "v" for i in range(65)},
    ],
)
def test_bad_service_labels_are_refused(client, localcloud_settings, labels):
    svc = _service()
    svc.labels.update(labels)
    _refused(client, localcloud_settings, svc, "service.labels")


def test_update_is_validated_and_changes_nothing(client, localcloud_settings):
    name = unique("upv")
    created = client.create_service(
        parent=gcp.location_path(localcloud_settings), service=service(), service_id=name
    ).result(polling=FAST_POLLING)

    broken = run_v2.Service(created)
    broken.template.containers[0].image = "gcr.io/p/app:1\nrm -rf /"
    broken.template.containers[0].resources.limits["memory"] = "64Gi"
    with pytest.raises(exceptions.BadRequest) as err:
        client.update_service(service=broken)
    error = err.value.response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith("Violation in UpdateServiceRequest.service.template")
    fields = [v["field"] for v in error["details"][0]["fieldViolations"]]
    assert any(f.endswith("containers[0].image") for f in fields)
    assert any(f.endswith("containers[0].resources.limits.memory") for f in fields)

    again = client.get_service(name=created.name)
    assert again.generation == created.generation and again.etag == created.etag
    assert again.template.containers[0].image == created.template.containers[0].image


def test_update_with_allow_missing_is_validated(client, localcloud_settings):
    ghost = _service(_container(image="ghcr.io/org/app"))
    ghost.name = gcp.service_path(unique("ghv"), localcloud_settings)
    with pytest.raises(exceptions.BadRequest):
        client.update_service(request={"service": ghost, "allow_missing": True})
    with pytest.raises(exceptions.NotFound):
        client.get_service(name=ghost.name)


def test_update_in_unknown_region_is_refused(localcloud, localcloud_settings):
    # The client builds the URL from service.name; send the PATCH directly.
    path = f"/v2/projects/{localcloud_settings.gcp_project}/locations/mars-north1/services/x"
    with httpx.Client(verify=client_context(), base_url=localcloud.url) as http:
        answer = http.patch(path, json={"template": {"containers": [{"image": "gcr.io/p/a"}]}})
    assert answer.status_code == 400
    assert answer.json() == {
        "error": {
            "code": 400,
            "message": "Location mars-north1 is not valid",
            "status": "INVALID_ARGUMENT",
        }
    }


def test_validate_only_is_validated_too(client, localcloud_settings):
    request = run_v2.CreateServiceRequest(
        parent=gcp.location_path(localcloud_settings),
        service=_service(_container(resources=_limits(memory="100Gi"))),
        service_id=unique("vo"),
        validate_only=True,
    )
    with pytest.raises(exceptions.BadRequest):
        client.create_service(request=request)
