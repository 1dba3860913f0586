"""Proxmox VE api2/json on the local cloud's TLS port, driven by the real `proxmoxer` client (and
by `requests` where the wire itself is the point: reason phrases, form bodies, headers)."""

from __future__ import annotations

import time
import urllib.parse

import pytest
import requests
from proxmoxer import ProxmoxAPI, ResourceException
from proxmoxer.tools import Tasks

from localcloud.apis.proxmox import LOCAL_TOKEN_ID, LOCAL_TOKEN_SECRET
from localcloud.testing import LocalCloud
from tests.localcloud import unique

AUTH = {"Authorization": f"PVEAPIToken={LOCAL_TOKEN_ID}={LOCAL_TOKEN_SECRET}"}
UBUNTU_ON = {"sv1": 9100, "sv2": 9200, "sv3": 9300, "sv4": 9400, "sv5": 9500}


def connect(cloud: LocalCloud, token: str = LOCAL_TOKEN_SECRET, verify=None) -> ProxmoxAPI:
    user, _, name = LOCAL_TOKEN_ID.partition("!")
    return ProxmoxAPI(
        cloud.proxmox_endpoint,
        user=user,
        token_name=name,
        token_value=token,
        verify_ssl=str(cloud.ca_file) if verify is None else verify,
    )


@pytest.fixture
def px(localcloud) -> ProxmoxAPI:
    return connect(localcloud)


def wait(px: ProxmoxAPI, upid: str) -> dict:
    status = Tasks.blocking_status(px, upid, timeout=30, polling_interval=0.05)
    assert status is not None, f"task {upid} still running"
    return status


def clone(px: ProxmoxAPI, node: str = "sv1", name: str | None = None) -> tuple[int, str]:
    vmid = int(px.cluster.nextid.get())
    upid = px.nodes(node).qemu(UBUNTU_ON[node]).clone.post(newid=vmid, name=name or unique("vm"))
    return vmid, upid


def destroy(px: ProxmoxAPI, node: str, vmid: int) -> None:
    if px.nodes(node).qemu(vmid).status.current.get()["status"] == "running":
        wait(px, px.nodes(node).qemu(vmid).status.stop.post())
    wait(px, px.nodes(node).qemu(vmid).delete(purge=1))


def test_tls_is_verified_against_the_local_cloud_ca(localcloud):
    assert connect(localcloud).version.get()["version"].startswith("9.")
    with pytest.raises(requests.exceptions.SSLError):
        connect(localcloud, verify=True).version.get()
    # Plain HTTP on the TLS port is no Proxmox either.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://{localcloud.proxmox_endpoint}/api2/json/version", timeout=5)


def test_the_api_is_not_served_on_the_plain_port(localcloud):
    answer = requests.get(f"{localcloud.url}/api2/json/version", headers=AUTH, timeout=5)
    assert answer.status_code == 501


def test_token_auth_is_checked_and_errors_carry_the_reason_phrase(localcloud):
    base = f"https://{localcloud.proxmox_endpoint}/api2/json"
    ca = str(localcloud.ca_file)
    anonymous = requests.get(f"{base}/nodes", verify=ca, timeout=5)
    assert (anonymous.status_code, anonymous.reason) == (401, "No ticket")
    with pytest.raises(ResourceException) as refused:
        connect(localcloud, token="not-the-token").nodes.get()
    assert refused.value.status_code == 401
    assert refused.value.content == "invalid token value!"
    ok = requests.get(f"{base}/nodes", headers=AUTH, verify=ca, timeout=5)
    assert ok.headers["content-type"].startswith("application/json")
    assert ok.headers["server"] == "pve-api-daemon/3.0"
    assert [node["node"] for node in ok.json()["data"]] == ["sv1", "sv2", "sv3", "sv4", "sv5"]


def test_parameter_errors_are_400_with_per_field_errors(px):
    with pytest.raises(ResourceException) as bad:
        px.nodes("sv1").qemu(9100).clone.post(newid=50, name="bad name", colour="red")
    error = bad.value
    assert (error.status_code, error.content) == (400, "Parameter verification failed.")
    assert set(error.errors) == {"newid", "name", "colour"}
    assert "minimum value of 100" in error.errors["newid"]
    assert "not defined in schema" in error.errors["colour"]


def test_nextid_answers_a_free_id_and_refuses_a_taken_one(px):
    vmid = int(px.cluster.nextid.get())
    assert vmid >= 100
    assert int(px.cluster.nextid.get(vmid=vmid)) == vmid
    with pytest.raises(ResourceException) as taken:
        px.cluster.nextid.get(vmid=9100)
    assert taken.value.status_code == 400
    assert taken.value.errors == {"vmid": "VM 9100 already exists"}


def test_nodes_status_and_cluster_resources_report_capacities(px):
    status = px.nodes("sv5").status.get()
    assert status["memory"]["total"] == 32 * 1024**3
    assert status["cpuinfo"]["cpus"] == 8
    resources = px.cluster.resources.get()
    kinds = {item["type"] for item in resources}
    assert {"node", "storage", "qemu"} <= kinds
    templates = [item for item in resources if item["type"] == "qemu" and item["template"] == 1]
    names = {item["name"] for item in templates if item["node"] == "sv3"}
    assert names == {"tpl-ubuntu", "tpl-debian", "tpl-centos", "tpl-rocky", "tpl-windows"}
    with pytest.raises(ResourceException) as unknown:
        px.nodes("sv9").status.get()
    assert unknown.value.content == "no such cluster node 'sv9'"


def test_clone_configure_resize_start_and_destroy(px):
    vmid, upid = clone(px, "sv2", name="web-one")
    assert Tasks.decode_upid(upid)["node"] == "sv2"
    assert Tasks.decode_upid(upid)["type"] == "qmclone"
    # The new VM exists at once, locked until its clone task ends.
    assert px.nodes("sv2").qemu(vmid).config.get()["lock"] == "clone"
    with pytest.raises(ResourceException) as locked:
        px.nodes("sv2").qemu(vmid).config.put(cores=4)
    assert locked.value.content == "VM is locked (clone)"
    running = px.nodes("sv2").tasks(upid).status.get()
    assert running["status"] == "running" and "exitstatus" not in running
    assert wait(px, upid)["exitstatus"] == "OK"

    keys = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI me@example.com\n"
    px.nodes("sv2").qemu(vmid).config.put(
        cores=4, memory=4096, sshkeys=urllib.parse.quote(keys, safe="")
    )
    config = px.nodes("sv2").qemu(vmid).config.get()
    assert (config["cores"], config["memory"], config["name"]) == (4, "4096", "web-one")
    assert urllib.parse.unquote(config["sshkeys"]) == keys
    assert "lock" not in config

    assert (
        wait(px, px.nodes("sv2").qemu(vmid).resize.put(disk="scsi0", size="+6G"))["exitstatus"]
        == "OK"
    )
    assert px.nodes("sv2").qemu(vmid).config.get()["scsi0"].endswith("size=16G")
    with pytest.raises(ResourceException) as shrink:
        px.nodes("sv2").qemu(vmid).resize.put(disk="scsi0", size="12G")
    assert shrink.value.content == "shrinking disks is not supported"

    start = px.nodes("sv2").qemu(vmid).status.start.post()
    assert px.nodes("sv2").qemu(vmid).status.current.get()["status"] == "stopped"
    wait(px, start)
    assert px.nodes("sv2").qemu(vmid).status.current.get()["status"] == "running"
    # Starting it again: the task fails, as PVE's does.
    again = wait(px, px.nodes("sv2").qemu(vmid).status.start.post())
    assert again["exitstatus"] == f"VM {vmid} already running"
    with pytest.raises(ResourceException) as running_vm:
        px.nodes("sv2").qemu(vmid).delete()
    assert running_vm.value.content == f"VM {vmid} is running - destroy failed"

    destroy(px, "sv2", vmid)
    with pytest.raises(ResourceException) as gone:
        px.nodes("sv2").qemu(vmid).config.get()
    assert gone.value.content == (
        f"Configuration file 'nodes/sv2/qemu-server/{vmid}.conf' does not exist"
    )


def test_a_clone_may_land_on_another_node(px):
    vmid = int(px.cluster.nextid.get())
    upid = px.nodes("sv1").qemu(9101).clone.post(newid=vmid, name=unique("moved"), target="sv2")
    # The task runs on the node that was asked; the VM is on the target.
    assert Tasks.decode_upid(upid)["node"] == "sv1"
    wait(px, upid)
    located = [item for item in px.cluster.resources.get(type="vm") if item["vmid"] == vmid]
    assert [item["node"] for item in located] == ["sv2"]
    destroy(px, "sv2", vmid)


def test_unsupported_ssh_keys_encoding_is_refused(px):
    vmid, upid = clone(px, "sv3")
    wait(px, upid)
    try:
        with pytest.raises(ResourceException) as raw:
            px.nodes("sv3").qemu(vmid).config.put(sshkeys="ssh-ed25519 AAAA me@example.com")
        assert raw.value.errors == {"sshkeys": "invalid format - invalid urlencoded string"}
    finally:
        destroy(px, "sv3", vmid)


def test_a_node_refuses_what_is_over_its_capacity(px):
    vmid, upid = clone(px, "sv5")
    wait(px, upid)
    try:
        free = px.nodes("sv5").status.get()["memory"]["free"] // 1024**2
        with pytest.raises(ResourceException) as memory:
            px.nodes("sv5").qemu(vmid).config.put(memory=2048 + free + 1024)
        assert memory.value.status_code == 500
        assert memory.value.content.startswith("not enough memory on node 'sv5'")
        with pytest.raises(ResourceException) as cores:
            px.nodes("sv5").qemu(vmid).config.put(cores=64)
        assert cores.value.content == "MAX 8 vcpus allowed per VM on this node"
        with pytest.raises(ResourceException) as disk:
            px.nodes("sv5").qemu(vmid).resize.put(disk="scsi0", size="+2000G")
        assert "not enough free space on storage 'local-lvm'" in disk.value.content
    finally:
        destroy(px, "sv5", vmid)


def test_protected_templates_cannot_be_destroyed(px):
    with pytest.raises(ResourceException) as protected:
        px.nodes("sv1").qemu(9100).delete()
    assert protected.value.content == "can't remove VM 9100 - protection mode enabled"


def test_ha_resources_and_delete_needs_purge(px):
    vmid, upid = clone(px, "sv4")
    wait(px, upid)
    sid = f"vm:{vmid}"
    px.cluster.ha.resources.post(sid=sid, state="stopped", max_restart=1)
    assert px.cluster.ha.resources(sid).get()["state"] == "stopped"
    with pytest.raises(ResourceException) as twice:
        px.cluster.ha.resources.post(sid=sid)
    assert twice.value.content == f"resource ID '{sid}' already defined"
    assert px.nodes("sv4").qemu(vmid).status.current.get()["ha"] == {
        "managed": 1,
        "state": "stopped",
    }
    with pytest.raises(ResourceException) as no_purge:
        px.nodes("sv4").qemu(vmid).delete()
    assert "used in HA resources and purge parameter not set" in no_purge.value.content
    px.cluster.ha.resources(sid).delete()
    with pytest.raises(ResourceException) as not_managed:
        px.cluster.ha.resources(sid).delete()
    assert not_managed.value.content == f"cannot delete service '{sid}', not HA managed!"
    destroy(px, "sv4", vmid)


def test_vncproxy_answers_a_ticket_for_a_running_vm(px, localcloud):
    vmid, upid = clone(px, "sv1")
    wait(px, upid)
    try:
        with pytest.raises(ResourceException):
            px.nodes("sv1").qemu(vmid).vncproxy.post(websocket=1)
        wait(px, px.nodes("sv1").qemu(vmid).status.start.post())
        proxy = px.nodes("sv1").qemu(vmid).vncproxy.post(websocket=1)
        assert proxy["user"] == LOCAL_TOKEN_ID
        assert proxy["ticket"].startswith("PVEVNC:")
        assert isinstance(proxy["port"], int)
        assert proxy["cert"].startswith("-----BEGIN CERTIFICATE-----")
        assert Tasks.decode_upid(proxy["upid"])["type"] == "vncproxy"
    finally:
        destroy(px, "sv1", vmid)


def test_faults_per_node_answer_in_the_pve_shape(px, clean_faults):
    name = unique("refused")
    refuse = clean_faults.inject_fault(
        fail_next=1,
        code=500,
        method="POST",
        path_contains="/nodes/sv3/qemu/",
        body_contains=f"name={name}",
        message="clone refused by injected fault",
    )
    with pytest.raises(ResourceException) as refused:
        clone(px, "sv3", name=name)
    assert (refused.value.status_code, refused.value.content) == (
        500,
        "clone refused by injected fault",
    )
    assert clean_faults.fired(refuse) == 1

    failing = clean_faults.inject_fault(
        fail_next=1,
        method="POST",
        path_contains="/nodes/sv3/qemu/",
        body_contains=f"name={name}",
        operation_error={"code": 13, "message": "clone failed: storage error on sv3"},
    )
    vmid, upid = clone(px, "sv3", name=name)
    assert wait(px, upid)["exitstatus"] == "clone failed: storage error on sv3"
    assert clean_faults.fired(failing) == 1
    # A failed clone leaves no VM behind.
    assert all(item["vmid"] != vmid for item in px.cluster.resources.get(type="vm"))


def test_task_delay_follows_the_config(px, localcloud):
    localcloud.set_proxmox_task_seconds(1.0)
    try:
        vmid, upid = clone(px, "sv4")
        started = time.monotonic()
        wait(px, upid)
        assert time.monotonic() - started >= 0.8
    finally:
        localcloud.set_proxmox_task_seconds(0.3)
    destroy(px, "sv4", vmid)


def test_state_survives_a_restart(tmp_path):
    with LocalCloud.start(tmp_path / "cloud") as cloud:
        px = connect(cloud)
        vmid, upid = clone(px, "sv2", name="kept")
        wait(px, upid)
    with LocalCloud.start(tmp_path / "cloud") as again:
        # Same CA file: the client's trust still holds after the restart.
        config = connect(again).nodes("sv2").qemu(vmid).config.get()
        assert config["name"] == "kept"
