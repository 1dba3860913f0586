"""The Docker Engine API on the local cloud, driven by the real `docker` SDK over tcp://."""

from __future__ import annotations

import docker
import pytest
from docker.errors import APIError, ImageNotFound, NotFound

from tests.localcloud import unique


@pytest.fixture
def client(localcloud) -> docker.DockerClient:
    return docker.DockerClient(base_url=localcloud.url.replace("http://", "tcp://"))


def test_version_negotiation_and_ping(client, localcloud):
    # version "auto" (the default): GET /version, then that ApiVersion prefixes every path.
    assert client.api._version == "1.47"
    assert client.ping() is True
    pinned = docker.DockerClient(
        base_url=localcloud.url.replace("http://", "tcp://"), version="1.45"
    )
    assert pinned.version()["ApiVersion"] == "1.47"


def test_run_inspect_stop_and_remove_a_container_with_labels(client):
    name = unique("web")
    container = client.containers.run(
        "nginx:1.27", name=name, detach=True, labels={"app": name}, environment={"A": "1"}
    )
    container.reload()
    assert container.status == "running"
    assert container.attrs["Config"]["Env"] == ["A=1"]
    listed = client.containers.list(filters={"label": f"app={name}"})
    assert [c.name for c in listed] == [name]
    container.stop(timeout=1)
    container.reload()
    assert container.status == "exited"
    assert client.containers.list(filters={"label": f"app={name}"}) == []
    assert len(client.containers.list(all=True, filters={"label": f"app={name}"})) == 1
    container.remove()
    with pytest.raises(NotFound):
        client.containers.get(name)


def test_pause_and_unpause_a_container(client):
    name = unique("paused")
    container = client.containers.run("busybox:1.36", name=name, detach=True)
    container.pause()
    container.reload()
    assert container.status == "paused"
    assert container.attrs["State"]["Running"] is True and container.attrs["State"]["Paused"]
    assert [c.name for c in client.containers.list(filters={"name": name})] == [name]
    with pytest.raises(APIError) as again:
        container.pause()
    assert again.value.status_code == 409 and "already paused" in str(again.value)
    container.unpause()
    container.reload()
    assert container.status == "running" and container.attrs["State"]["Paused"] is False
    with pytest.raises(APIError) as not_paused:
        container.unpause()
    assert not_paused.value.status_code == 409
    container.pause()
    container.remove(force=True)
    with pytest.raises(NotFound):
        client.containers.get(name)


def test_errors_have_the_daemons_shapes(client):
    name = unique("dup")
    client.containers.run("busybox:1.36", name=name, detach=True)
    with pytest.raises(APIError) as conflict:
        client.containers.create("busybox:1.36", name=name)
    assert conflict.value.status_code == 409 and "already in use" in str(conflict.value)
    with pytest.raises(APIError) as running:
        client.containers.get(name).remove()
    assert running.value.status_code == 409
    client.containers.get(name).remove(force=True)
    with pytest.raises(ImageNotFound):
        client.images.get("never-pulled:1")
    with pytest.raises(APIError) as bad:
        client.images.pull("Not A Reference", tag="x")
    assert bad.value.status_code == 400


def test_networks_and_volumes(client):
    net_name, vol_name = unique("net"), unique("vol")
    network = client.networks.create(net_name, driver="bridge", labels={"p": "x"})
    assert client.networks.list(names=[net_name])[0].id == network.id
    container = client.containers.run("busybox:1.36", detach=True, network=net_name)
    network.connect(container, aliases=["db"])
    volume = client.volumes.create(vol_name, labels={"p": "x"})
    assert volume.attrs["Mountpoint"].endswith(f"{vol_name}/_data")
    assert [v.name for v in client.volumes.list(filters={"label": "p=x"})] == [vol_name]
    volume.remove()
    container.remove(force=True)


def test_a_runner_container_runs_one_job_then_exits_and_deregisters(client, localcloud):
    from tests.helpers.runners import github, new_repo, repo_runners, set_job_seconds

    repo = new_repo(localcloud.url)
    set_job_seconds(localcloud.url, 1)
    with github(localcloud.url) as gh:
        jit = gh.post(
            f"/repos/{repo}/actions/runners/generate-jitconfig",
            json={"name": "one-job", "runner_group_id": 1, "labels": ["linux"]},
        ).json()
    assert repo_runners(localcloud.url, repo)[0]["status"] == "offline"
    container = client.containers.run(
        "ghcr.io/actions/actions-runner:latest",
        detach=True,
        environment={"ACTIONS_RUNNER_INPUT_JITCONFIG": jit["encoded_jit_config"]},
    )
    runner = repo_runners(localcloud.url, repo)[0]
    assert (runner["status"], runner["busy"]) == ("online", True)
    assert container.wait(timeout=10)["StatusCode"] == 0
    assert repo_runners(localcloud.url, repo) == []
    # A used JIT config is refused: a second container with it exits at once, non-zero.
    again = client.containers.run(
        "ghcr.io/actions/actions-runner:latest",
        detach=True,
        environment={"ACTIONS_RUNNER_INPUT_JITCONFIG": jit["encoded_jit_config"]},
    )
    assert again.wait(timeout=5)["StatusCode"] == 1
    set_job_seconds(localcloud.url, 2)
