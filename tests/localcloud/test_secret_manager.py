"""Secret Manager v1 on the local cloud, driven by the real `SecretManagerServiceClient` (REST)."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import secretmanager_v1

from localcloud.crc32c import crc32c
from localcloud.naming import project_number
from providers.google import clients as gcp
from tests.localcloud import unique


@pytest.fixture
def client(localcloud_settings) -> secretmanager_v1.SecretManagerServiceClient:
    return gcp.secret_manager_client(localcloud_settings)


@pytest.fixture
def parent(localcloud_settings) -> str:
    return f"projects/{localcloud_settings.gcp_project}"


def _create(client, parent: str, secret_id: str, **labels: str) -> secretmanager_v1.Secret:
    return client.create_secret(
        parent=parent,
        secret_id=secret_id,
        secret={"replication": {"automatic": {}}, "labels": labels},
    )


def test_secret_value_round_trip(client, parent, localcloud_settings):
    secret_id = unique("db-password")
    secret = _create(client, parent, secret_id, customer="acme", kind="db")
    # Like the real service, names carry the project number, not the id.
    number = project_number(localcloud_settings.gcp_project)
    assert secret.name == f"projects/{number}/secrets/{secret_id}"
    assert dict(secret.labels) == {"customer": "acme", "kind": "db"}

    first = client.add_secret_version(parent=secret.name, payload={"data": b"s3cret-1"})
    second = client.add_secret_version(
        parent=secret.name, payload={"data": b"s3cret-2", "data_crc32c": crc32c(b"s3cret-2")}
    )
    assert first.name.endswith("/versions/1") and second.name.endswith("/versions/2")
    assert second.state == secretmanager_v1.SecretVersion.State.ENABLED

    latest = client.access_secret_version(name=f"{parent}/secrets/{secret_id}/versions/latest")
    assert latest.payload.data == b"s3cret-2"
    assert latest.payload.data_crc32c == crc32c(b"s3cret-2")
    assert latest.name == second.name
    old = client.access_secret_version(name=f"{secret.name}/versions/1")
    assert old.payload.data == b"s3cret-1"

    versions = list(client.list_secret_versions(parent=secret.name))
    assert [v.name for v in versions] == [second.name, first.name]


def test_wrong_checksum_is_rejected(client, parent):
    secret = _create(client, parent, unique("crc"))
    with pytest.raises(exceptions.BadRequest):
        client.add_secret_version(
            parent=secret.name, payload={"data": b"value", "data_crc32c": 12345}
        )


def test_list_with_label_filter(client, parent):
    tag = unique("t")
    wanted = {_create(client, parent, unique("a"), batch=tag, env="prod").name for _ in range(2)}
    _create(client, parent, unique("b"), batch=tag, env="dev")
    _create(client, parent, unique("c"), env="prod")

    found = client.list_secrets(
        request={"parent": parent, "filter": f"labels.batch={tag} AND labels.env=prod"}
    )
    assert {s.name for s in found} == wanted
    by_name = client.list_secrets(request={"parent": parent, "filter": f"labels.batch:{tag}"})
    assert len(list(by_name)) == 3


def test_update_labels(client, parent):
    secret = _create(client, parent, unique("upd"), env="dev")
    secret.labels["env"] = "prod"
    updated = client.update_secret(secret=secret, update_mask={"paths": ["labels"]})
    assert dict(updated.labels) == {"env": "prod"}
    assert updated.etag != secret.etag


def test_delete_removes_secret_and_versions(client, parent):
    secret = _create(client, parent, unique("gone"))
    client.add_secret_version(parent=secret.name, payload={"data": b"x"})

    client.delete_secret(name=secret.name)

    with pytest.raises(exceptions.NotFound):
        client.get_secret(name=secret.name)
    with pytest.raises(exceptions.NotFound):
        client.access_secret_version(name=f"{secret.name}/versions/latest")
    with pytest.raises(exceptions.NotFound):
        client.delete_secret(name=secret.name)


def test_errors(client, parent):
    secret_id = unique("err")
    secret = _create(client, parent, secret_id)
    with pytest.raises(exceptions.Conflict) as err:
        _create(client, parent, secret_id)
    assert err.value.response.json()["error"]["status"] == "ALREADY_EXISTS"

    with pytest.raises(exceptions.NotFound) as missing:
        client.access_secret_version(name=f"{secret.name}/versions/latest")
    assert "has no versions" in missing.value.message
    with pytest.raises(exceptions.NotFound):
        client.get_secret(name=f"{parent}/secrets/{unique('never')}")

    with pytest.raises(exceptions.BadRequest):
        _create(client, parent, "bad id!")
    with pytest.raises(exceptions.BadRequest):
        _create(client, parent, unique("lbl"), **{"Env": "x"})


def test_disabled_version_cannot_be_accessed(client, parent):
    secret = _create(client, parent, unique("dis"))
    version = client.add_secret_version(parent=secret.name, payload={"data": b"v"})
    disabled = client.disable_secret_version(name=version.name)
    assert disabled.state == secretmanager_v1.SecretVersion.State.DISABLED
    with pytest.raises(exceptions.BadRequest) as err:
        client.access_secret_version(name=version.name)
    assert err.value.response.json()["error"]["status"] == "FAILED_PRECONDITION"
    destroyed = client.destroy_secret_version(name=version.name)
    assert destroyed.state == secretmanager_v1.SecretVersion.State.DESTROYED
