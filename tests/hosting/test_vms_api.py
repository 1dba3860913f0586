"""Seed 001's Proxmox VMs through the API, with a real worker, the dev server and the local cloud's
Proxmox emulator: create with node failover, concurrent creates, update, console, control, delete,
and the forms' strictness."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from core.settings import Settings
from providers import proxmox
from providers.proxmox import ProxmoxVE
from providers.tls import client_context
from tests.helpers.hosting_vms import vms_named
from tests.helpers.platform import ADMIN_KEY, ApiServer, wait_for_job
from tests.hosting.conftest import hosting_settings

SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0ZXN0a2V5 ana@example.com"


@pytest.fixture(scope="module")
def vm_server(settings: Settings, localcloud) -> Iterator[ApiServer]:
    localcloud.set_proxmox_task_seconds(0.3)
    quick = hosting_settings(settings).model_copy(update={"hosting_vm_task_poll_seconds": 0.1})
    try:
        with ApiServer(quick) as server:
            yield server
    finally:
        localcloud.set_proxmox_task_seconds(1.0)


@pytest.fixture
async def vms(vm_server: ApiServer, worker) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=vm_server.url,
        headers={"X-API-Key": ADMIN_KEY},
        timeout=60,
    ) as http:
        yield http


@pytest.fixture
def pve(localcloud_settings: Settings) -> ProxmoxVE:
    return proxmox.client(localcloud_settings)


async def new_user(http: httpx.AsyncClient) -> str:
    userid = f"u-{uuid.uuid4().hex[:8]}"
    made = await http.post("/users", data={"userid": userid, "username": "Ana"})
    assert made.status_code == 201, made.text
    return userid


def vm_name() -> str:
    return f"vm-{uuid.uuid4().hex[:8]}"


async def create(http: httpx.AsyncClient, userid: str, name: str, **fields: str) -> dict:
    form = {"userid": userid, "vm_name": name, "os_type": "Ubuntu", **fields}
    answer = await http.post("/vm", data=form)
    assert answer.status_code == 202, answer.text
    return answer.json()


async def test_create_vm_clones_configures_starts_and_marks_it(vms, pve):
    userid = await new_user(vms)
    name = vm_name()
    job = await create(
        vms, userid, name, cores="2", memory="1024", disksize="30", ssh_pub_key=SSH_KEY
    )
    assert job["job_id"].startswith("create_vm-") and job["job_url"] and job["temporal_ui_url"]
    vm_id = job["vm_id"]
    creating = (await vms.get(f"/vm/{vm_id}")).json()
    assert creating["status"] in ("creating", "enabled") and creating["userid"] == userid

    done = await wait_for_job(vms, job["job_id"], seconds=90)
    assert done["status"] == "completed", done
    assert done["result"]["vm_id"] == vm_id

    detail = (await vms.get(f"/vm/{vm_id}")).json()
    assert detail["status"] == "enabled" and detail["node"] == done["result"]["node"]
    live = detail["live"]
    assert (live["status"], live["cores"], live["memory_mb"], live["disk_gb"]) == (
        "running",
        2,
        1024,
        30,
    )
    assert live["ha_managed"] is True
    config = pve.config(detail["node"], vm_id)
    assert f"job={job['job_id']}" in config["description"]
    assert f"user={userid}" in config["description"]
    assert "sshkeys" in config
    user = (await vms.get(f"/users/{userid}")).json()
    assert [vm["id"] for vm in user["vms"]] == [vm_id]


async def test_sv1_and_sv2_failing_creates_the_vm_on_sv3_and_leaves_nothing_on_them(
    vms, pve, clean_faults
):
    userid = await new_user(vms)
    name = vm_name()
    refused = clean_faults.inject_fault(
        code=500,
        method="POST",
        path_contains="/nodes/sv1/qemu/",
        body_contains=f"name={name}",
        message="clone refused by injected fault",
    )
    failed = clean_faults.inject_fault(
        method="POST",
        path_contains="/nodes/sv2/qemu/",
        body_contains=f"name={name}",
        operation_error={"code": 13, "message": "clone failed: disk copy error"},
    )
    job = await create(vms, userid, name)
    done = await wait_for_job(vms, job["job_id"], seconds=120)
    assert done["status"] == "completed", done
    assert clean_faults.fired(refused) == 1 and clean_faults.fired(failed) == 1
    assert done["result"]["node"] == "sv3"
    assert set(done["result"]["failed_nodes"]) == {"sv1", "sv2"}
    assert vms_named(pve, name) == [("sv3", job["vm_id"])]


async def test_every_node_failing_fails_the_job_with_each_reason_and_leaves_nothing(
    vms, pve, clean_faults
):
    userid = await new_user(vms)
    name = vm_name()
    for node in ("sv1", "sv2", "sv3", "sv4", "sv5"):
        clean_faults.inject_fault(
            code=500,
            method="POST",
            path_contains=f"/nodes/{node}/qemu/",
            body_contains=f"name={name}",
            message=f"{node} refuses this clone",
        )
    job = await create(vms, userid, name)
    done = await wait_for_job(vms, job["job_id"], seconds=120)
    assert done["status"] == "failed", done
    for node in ("sv1", "sv2", "sv3", "sv4", "sv5"):
        assert f"{node} refuses this clone" in done["error"], done["error"]
    assert vms_named(pve, name) == []
    assert pve.locate(job["vm_id"]) is None
    assert (await vms.get(f"/vm/{job['vm_id']}")).json()["status"] == "failed"


@pytest.mark.long
async def test_twenty_concurrent_creates_get_twenty_vmids_and_no_node_goes_over(vms, pve):
    userid = await new_user(vms)
    names = [vm_name() for _ in range(20)]
    jobs = await asyncio.gather(*(create(vms, userid, name, memory="1024") for name in names))
    vm_ids = [job["vm_id"] for job in jobs]
    assert len(set(vm_ids)) == 20
    try:
        done = await asyncio.gather(*(wait_for_job(vms, j["job_id"], seconds=240) for j in jobs))
        assert [job["status"] for job in done] == ["completed"] * 20, [
            job.get("error") for job in done
        ]
        for node in pve.nodes():
            assert node.memory_used_mib <= node.memory_total_mib
            assert node.disk_used_gib <= node.disk_total_gib
        placed = {pve.locate(vm_id) for vm_id in vm_ids}
        assert None not in placed
    finally:
        deletes = [(await vms.post(f"/control-vm/{vm_id}/delete")).json() for vm_id in vm_ids]
        await asyncio.gather(
            *(wait_for_job(vms, d["job_id"], seconds=240) for d in deletes if "job_id" in d)
        )


async def test_update_refuses_a_smaller_disk_then_grows_it_and_restarts(vms, pve):
    userid = await new_user(vms)
    job = await create(vms, userid, vm_name(), disksize="20", memory="1024")
    assert (await wait_for_job(vms, job["job_id"], seconds=90))["status"] == "completed"
    vm_id = job["vm_id"]

    shrink = await vms.put(f"/vm/update/{vm_id}", data={"disksize": "15"})
    assert shrink.status_code == 400, shrink.text
    assert shrink.json()["error"]["code"] == "validation_error"
    assert (await vms.post(f"/vm/update/{vm_id}", data={"disksize": "abc"})).status_code == 400
    assert (await vms.post(f"/vm/update/{vm_id}", data={})).status_code == 400

    grown = await vms.put(f"/vm/update/{vm_id}", data={"disksize": "40", "cores": "4"})
    assert grown.status_code == 202, grown.text
    done = await wait_for_job(vms, grown.json()["job_id"], seconds=90)
    assert done["status"] == "completed", done
    detail = (await vms.get(f"/vm/{vm_id}")).json()
    assert (detail["disksize_gb"], detail["cores"]) == (40, 4)
    assert (detail["live"]["disk_gb"], detail["live"]["cores"]) == (40, 4)
    assert detail["live"]["status"] == "running"


async def test_connect_returns_a_ticket_that_no_job_or_log_keeps(vms, client, capfd):
    userid = await new_user(vms)
    job = await create(vms, userid, vm_name(), memory="1024")
    assert (await wait_for_job(vms, job["job_id"], seconds=90))["status"] == "completed"
    vm_id = job["vm_id"]
    before = [w.id async for w in client.list_workflows(f"ConneskillsSubject = 'vm:{vm_id}'")]

    answer = await vms.post(f"/vm/connect/{vm_id}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    console = answer.json()
    assert console["ticket"] and console["port"] > 0 and console["node"]
    assert (await vms.get(f"/vm/connect/{vm_id}")).status_code == 200

    after = [w.id async for w in client.list_workflows(f"ConneskillsSubject = 'vm:{vm_id}'")]
    assert sorted(after) == sorted(before)
    for workflow_id in after:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        assert console["ticket"] not in history.to_json()
    out, err = capfd.readouterr()
    assert console["ticket"] not in out + err


async def test_control_stops_and_starts_and_refuses_an_unknown_action(vms):
    userid = await new_user(vms)
    job = await create(vms, userid, vm_name(), memory="1024")
    assert (await wait_for_job(vms, job["job_id"], seconds=90))["status"] == "completed"
    vm_id = job["vm_id"]

    assert (await vms.post(f"/control-vm/{vm_id}/explode")).status_code == 400
    stop = await vms.post(f"/control-vm/{vm_id}/stop")
    assert stop.status_code == 202, stop.text
    assert (await wait_for_job(vms, stop.json()["job_id"], seconds=60))["status"] == "completed"
    detail = (await vms.get(f"/vm/{vm_id}")).json()
    assert (detail["status"], detail["live"]["status"]) == ("stopped", "stopped")
    # No console to a stopped VM: the caller's state to change (409), not Proxmox failing (502).
    refused = await vms.post(f"/vm/connect/{vm_id}")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "vm_not_running"

    start = await vms.post(f"/control-vm/{vm_id}/start")
    assert (await wait_for_job(vms, start.json()["job_id"], seconds=60))["status"] == "completed"
    detail = (await vms.get(f"/vm/{vm_id}")).json()
    assert (detail["status"], detail["live"]["status"]) == ("enabled", "running")


async def test_delete_removes_the_ha_resource_then_the_vm_and_marks_the_row(vms, pve):
    userid = await new_user(vms)
    job = await create(vms, userid, vm_name(), memory="1024")
    assert (await wait_for_job(vms, job["job_id"], seconds=90))["status"] == "completed"
    vm_id = job["vm_id"]
    assert f"vm:{vm_id}" in {item["sid"] for item in pve.ha_resources()}

    deleted = await vms.post(f"/control-vm/{vm_id}/delete")
    assert deleted.status_code == 202, deleted.text
    done = await wait_for_job(vms, deleted.json()["job_id"], seconds=60)
    assert done["status"] == "completed", done
    assert done["result"]["outcome"] == "removed"
    assert f"vm:{vm_id}" not in {item["sid"] for item in pve.ha_resources()}
    assert pve.locate(vm_id) is None
    assert (await vms.get(f"/vm/{vm_id}")).json()["status"] == "deleted"
    again = await vms.post(f"/control-vm/{vm_id}/start")
    assert again.status_code == 409 and again.json()["error"]["code"] == "vm_gone"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"disksize": "abc"}, "disksize"),
        ({"disksize": "10.5"}, "disksize"),
        ({"disksize": "5"}, "disksize"),
        ({"disksize": "501"}, "disksize"),
        ({"memory": "-1"}, "memory"),
        ({"memory": "1"}, "memory"),
        ({"cores": "9999"}, "cores"),
        ({"os_type": "plan9"}, "os_type"),
        ({"vm_name": "no spaces"}, "vm_name"),
        ({"ssh_pub_key": "not a key"}, "ssh_pub_key"),
    ],
)
async def test_a_bad_create_form_is_a_400_naming_the_field(vms, fields, field):
    form = {"userid": "u-nobody", "vm_name": "ok-name", "os_type": "ubuntu", **fields}
    answer = await vms.post("/vm", data=form)
    assert answer.status_code == 400, answer.text
    body = answer.json()["error"]
    assert body["code"] == "validation_error"
    assert field in [f["field"] for f in body["details"]["fields"]]


async def test_create_for_an_unknown_user_is_a_404_and_json_a_415(vms):
    form = {"userid": "u-nobody-here", "vm_name": "ok-name", "os_type": "ubuntu"}
    assert (await vms.post("/vm", data=form)).status_code == 404
    assert (await vms.post("/vm", json=form)).status_code == 415
    assert (await vms.get("/vm/99999998")).status_code == 404
    assert (await vms.get("/vm/abc")).status_code == 400
