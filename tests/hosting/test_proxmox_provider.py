"""providers/proxmox.py against the local cloud's Proxmox VE over verified TLS: the steps of the
hosting system's VM creation with failover (seed 001), and how each failure is classified."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from temporalio.exceptions import ApplicationError

from core.settings import Settings
from localcloud import tls
from localcloud.apis.proxmox import LOCAL_TOKEN_SECRET
from providers import proxmox
from providers.google.secret_manager import SecretStore
from providers.proxmox import ProxmoxVE, TaskStatus, task_failure


@pytest.fixture
def pve(localcloud_settings: Settings) -> ProxmoxVE:
    return proxmox.client(localcloud_settings)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait(pve: ProxmoxVE, upid: str, seconds: float = 30) -> TaskStatus:
    """Polls as an activity does: one `task_status` per iteration (it would heartbeat between)."""
    deadline = time.monotonic() + seconds
    while (status := pve.task_status(upid)).running:
        assert time.monotonic() < deadline, f"task {upid} still running"
        time.sleep(0.05)
    return status


def new_vm(pve: ProxmoxVE, node: str, os_type: str = "ubuntu", name: str | None = None) -> int:
    vmid = pve.next_vmid()
    upid = pve.clone(node, pve.template(node, os_type), vmid, name or unique("vm"))
    assert wait(pve, upid).ok
    return vmid


def remove(pve: ProxmoxVE, node: str, vmid: int) -> None:
    if pve.status(node, vmid).status == "running":
        wait(pve, pve.power(node, vmid, "stop"))
    upid = pve.delete(node, vmid)
    if upid:
        wait(pve, upid)


def test_create_a_vm_as_the_hosting_system_does(pve):
    nodes = pve.nodes()
    assert [node.name for node in nodes] == ["sv1", "sv2", "sv3", "sv4", "sv5"]
    # Pick the first node with room, as the seed's failover loop does.
    node = next(n for n in nodes if n.fits(memory_mib=4096, disk_gib=30, cores=4)).name
    vmid = pve.next_vmid()
    name = unique("web")
    upid = pve.clone(node, pve.template(node, "Ubuntu"), vmid, name, description="job: test")
    first = pve.task_status(upid)
    assert first.running and first.exitstatus is None and first.node == node
    assert wait(pve, upid).ok
    try:
        pve.configure(
            node,
            vmid,
            cores=4,
            memory_mib=4096,
            ssh_public_keys="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI user@example.com",
            tags=["conneskills", "job-test"],
        )
        assert wait(pve, pve.grow_disk(node, vmid, 30)).ok
        assert pve.disk_gib(node, vmid) == 30
        assert wait(pve, pve.power(node, vmid, "start")).ok
        status = pve.status(node, vmid)
        assert (status.status, status.cores, status.memory_mib, status.name) == (
            "running",
            4,
            4096,
            name,
        )
        assert pve.locate(vmid) == node
        after = next(n for n in pve.nodes() if n.name == node)
        assert after.memory_used_mib >= 4096

        ticket = pve.vnc_ticket(node, vmid)
        assert ticket.ticket.startswith("PVEVNC:") and ticket.port >= 5900
        assert ticket.cert.startswith("-----BEGIN CERTIFICATE-----")

        assert pve.ha_add(vmid) is True
        assert pve.ha_add(vmid) is False
        assert pve.status(node, vmid).ha_managed
        assert pve.ha_remove(vmid) is True
        assert pve.ha_remove(vmid) is False

        assert wait(pve, pve.power(node, vmid, "reboot")).ok
        assert wait(pve, pve.power(node, vmid, "shutdown")).ok
        assert pve.status(node, vmid).status == "stopped"
    finally:
        remove(pve, node, vmid)
    assert pve.locate(vmid) is None
    # Deleting again finds nothing to do.
    assert pve.delete(node, vmid) is None


def test_a_taken_vmid_is_final_and_already_exists(pve):
    with pytest.raises(ApplicationError) as taken:
        pve.next_vmid(preferred=9100)
    assert (taken.value.type, taken.value.non_retryable) == ("AlreadyExists", True)
    vmid = new_vm(pve, "sv1")
    try:
        with pytest.raises(ApplicationError) as again:
            pve.clone("sv2", pve.template("sv2", "debian"), vmid, unique("dup"))
        assert again.value.type == "AlreadyExists"
    finally:
        remove(pve, "sv1", vmid)


def test_a_full_node_refuses_with_a_final_capacity_error(pve):
    vmid = new_vm(pve, "sv5")
    try:
        sv5 = next(n for n in pve.nodes() if n.name == "sv5")
        assert not sv5.fits(memory_mib=sv5.memory_free_mib + 2048 + 1, disk_gib=10, cores=2)
        with pytest.raises(ApplicationError) as refused:
            pve.configure("sv5", vmid, memory_mib=2048 + sv5.memory_free_mib + 1)
        assert (refused.value.type, refused.value.non_retryable) == ("ProxmoxCapacity", True)
        assert "not enough memory on node 'sv5'" in refused.value.message
        with pytest.raises(ApplicationError) as disk:
            pve.grow_disk("sv5", vmid, int(sv5.disk_free_gib) + 100)
        assert disk.value.type == "ProxmoxCapacity"
        with pytest.raises(ApplicationError) as shrink:
            pve.grow_disk("sv5", vmid, 5)
        assert (shrink.value.type, shrink.value.non_retryable) == ("ProxmoxRejected", True)
    finally:
        remove(pve, "sv5", vmid)


def test_failover_faults_per_node(pve, clean_faults):
    name = unique("failover")
    scope = {"method": "POST", "path_contains": "/nodes/sv3/qemu/", "body_contains": f"name={name}"}
    # sv3 does not answer: retried.
    down = clean_faults.inject_fault(fail_next=1, code=503, **scope)
    vmid = pve.next_vmid()
    with pytest.raises(ApplicationError) as unavailable:
        pve.clone("sv3", pve.template("sv3", "ubuntu"), vmid, name)
    assert (unavailable.value.type, unavailable.value.non_retryable) == (
        "ProxmoxUnavailable",
        False,
    )
    assert clean_faults.fired(down) == 1
    # sv3 accepts the clone but its task fails: final for sv3; the VM is gone; sv4 takes it.
    failing = clean_faults.inject_fault(
        fail_next=1, operation_error={"code": 13, "message": "clone failed: sv3 storage"}, **scope
    )
    status = wait(pve, pve.clone("sv3", pve.template("sv3", "ubuntu"), vmid, name))
    assert not status.ok and status.exitstatus == "clone failed: sv3 storage"
    error = task_failure(f"cloning VM {vmid}", status)
    assert (error.type, error.non_retryable) == ("ProxmoxTaskFailed", True)
    assert clean_faults.fired(failing) == 1
    assert pve.locate(vmid) is None
    assert wait(pve, pve.clone("sv4", pve.template("sv4", "ubuntu"), vmid, name)).ok
    remove(pve, "sv4", vmid)


def test_a_locked_vm_is_retried(pve):
    vmid = pve.next_vmid()
    upid = pve.clone("sv2", pve.template("sv2", "rocky"), vmid, unique("locked"))
    with pytest.raises(ApplicationError) as locked:
        pve.configure("sv2", vmid, cores=2)
    assert (locked.value.type, locked.value.non_retryable) == ("ProxmoxBusy", False)
    wait(pve, upid)
    remove(pve, "sv2", vmid)


def test_the_local_token_is_the_emulators():
    assert proxmox.LOCAL_CLOUD_TOKEN == LOCAL_TOKEN_SECRET


def test_a_missing_template_or_vm_is_final(pve):
    with pytest.raises(ApplicationError) as template:
        pve.template("sv1", "beos")
    assert template.value.type == "NotFound"
    with pytest.raises(ApplicationError) as vm:
        pve.status("sv1", 999_999)
    assert (vm.value.type, vm.value.non_retryable) == ("NotFound", True)


def production_like(settings: Settings, localcloud, **overrides) -> Settings:
    """A "real cluster" configuration: an explicit endpoint, its CA, the token in Secret Manager."""
    values = {"proxmox_endpoint": localcloud.proxmox_endpoint, **overrides}
    return settings.model_copy(update=values)


def test_the_token_comes_from_secret_manager_and_never_shows(
    localcloud_settings, localcloud, caplog
):
    secret = unique("proxmox-token")
    settings = production_like(localcloud_settings, localcloud, proxmox_token_secret=secret)
    with pytest.raises(ApplicationError) as missing:
        proxmox.client(settings)
    assert (missing.value.type, missing.value.non_retryable) == ("NotFound", True)
    assert secret in missing.value.message

    wrong = "wrong-token-value-" + uuid.uuid4().hex
    SecretStore(settings).create(secret, wrong, labels={"test": "proxmox"})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ApplicationError) as refused:
        proxmox.client(settings).nodes()
    assert (refused.value.type, refused.value.non_retryable) == ("Unauthenticated", True)
    assert wrong not in refused.value.message
    assert wrong not in caplog.text

    # A rotated token is read again after a 401.
    SecretStore(settings).add_version(secret, LOCAL_TOKEN_SECRET)
    assert len(proxmox.client(settings).nodes()) == 5
    assert LOCAL_TOKEN_SECRET not in caplog.text


def test_tls_is_verified(localcloud_settings, localcloud, tmp_path):
    secret = unique("proxmox-token")
    SecretStore(localcloud_settings).create(secret, LOCAL_TOKEN_SECRET, labels={"test": "proxmox"})
    # The system trust store does not know the local cloud's CA.
    untrusted = production_like(
        localcloud_settings,
        localcloud,
        proxmox_token_secret=secret,
        proxmox_ca_bundle=None,
        proxmox_timeout_seconds=5,
    )
    with pytest.raises(ApplicationError) as system_store:
        proxmox.client(untrusted).nodes()
    assert (system_store.value.type, system_store.value.non_retryable) == (
        "ProxmoxTlsUntrusted",
        True,
    )
    # Another CA (here: one made for another data dir) does not do either.
    tls.ensure_certificates(tmp_path)
    other = localcloud_settings.model_copy(update={"proxmox_ca_bundle": tls.ca_path(tmp_path)})
    with pytest.raises(ApplicationError) as other_ca:
        proxmox.client(other).nodes()
    assert other_ca.value.type == "ProxmoxTlsUntrusted"
