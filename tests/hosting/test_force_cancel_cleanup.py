"""Hosting's cleanup after a force-cancel (JOB_CLEANUPS): a create whose graceful cancel cannot end
(its compensation hangs) is force-cancelled after the cool-off, and the cleanup job removes what it
made, found by its own mark: a VM cloned mid-way, a Docker service's containers, network,
workspace and row. What carries another job's mark stays."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
import zipfile
from collections.abc import AsyncIterator

import docker
import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.hosting.job_cleanup import HostingJobCleanup
from contracts.hosting.services import JOB_LABEL, SERVICE_ID_LABEL
from contracts.job_cleanup import JobCleanupInput
from providers import proxmox
from providers.tls import client_context
from store.hosting import users as user_store
from store.hosting import vms as vm_store
from tests.helpers.faults import wait_until_fired
from tests.helpers.hosting_vms import vms_named
from tests.helpers.job_controls import COOLOFF
from tests.helpers.platform import ADMIN_KEY, wait_for_job


@pytest.fixture
async def admin(quick_cooloff_api, worker) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=quick_cooloff_api.url,
        headers={"X-API-Key": ADMIN_KEY},
        timeout=60,
    ) as http:
        yield http


async def _user(http: httpx.AsyncClient) -> str:
    userid = f"u-{uuid.uuid4().hex[:8]}"
    made = await http.post("/users", data={"userid": userid, "username": "Ana"})
    assert made.status_code == 201, made.text
    return userid


def _site() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", b"x")
    return buffer.getvalue()


def _leftovers(client: docker.DockerClient, service_id: int) -> dict[str, list]:
    filters = {"label": [f"{SERVICE_ID_LABEL}={service_id}"]}
    return {
        "containers": client.api.containers(all=True, filters=filters),
        "networks": client.api.networks(filters=filters),
        "volumes": client.api.volumes(filters=filters).get("Volumes") or [],
    }


async def _force_cancel(http: httpx.AsyncClient, job_id: str, cancelled_at: float) -> dict:
    """Force-cancels once the cool-off has passed; the cleanup job's end."""
    await asyncio.sleep(max(0.0, cancelled_at + COOLOFF + 0.5 - time.monotonic()))
    job = (await http.get(f"/api/v1/jobs/{job_id}")).json()
    assert job["status"] == "compensating", job
    forced = await http.post(f"/api/v1/jobs/{job_id}/force-cancel")
    assert forced.status_code == 202, forced.text
    return await wait_for_job(http, forced.json()["cleanup_job_id"], seconds=90)


async def _until(check, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.2)


async def test_the_cleanup_after_a_force_cancelled_vm_create_removes_its_vm(
    admin, localcloud, localcloud_settings
):
    pve = proxmox.client(localcloud_settings)
    # The clone runs 12 s: the VM exists (locked) meanwhile, so the graceful cancel's removal is
    # refused (`VM is locked (clone)`, retried) past the cool-off.
    localcloud.set_proxmox_task_seconds(12.0)
    try:
        userid, name = await _user(admin), f"vm-{uuid.uuid4().hex[:8]}"
        form = {"userid": userid, "vm_name": name, "os_type": "Ubuntu", "memory": "1024"}
        answer = await admin.post("/vm", data=form)
        assert answer.status_code == 202, answer.text
        job_id, vm_id = answer.json()["job_id"], answer.json()["vm_id"]
        await _until(lambda: vms_named(pve, name))
        cancel = await admin.post(f"/api/v1/jobs/{job_id}/cancel")
        assert cancel.status_code == 202, cancel.text
        cleanup = await _force_cancel(admin, job_id, time.monotonic())
    finally:
        localcloud.set_proxmox_task_seconds(1.0)
    assert cleanup["status"] == "completed", cleanup
    assert any(f"proxmox vm {vm_id}" in what for what in cleanup["result"]["removed"]), cleanup
    assert vms_named(pve, name) == []
    row = (await admin.get(f"/vm/{vm_id}")).json()
    assert row["status"] == "failed", row


async def test_the_cleanup_after_a_force_cancelled_service_create_removes_what_it_made(
    admin, localcloud, settings
):
    config = f"{localcloud.url}/_localcloud/config"
    # The containers never become healthy while the test runs: the job waits in its health step.
    httpx.put(
        config, json={"docker_health_seconds": 600}, verify=client_context()
    ).raise_for_status()
    try:
        userid, name = await _user(admin), f"svc-{uuid.uuid4().hex[:8]}"
        fields = {"userid": userid, "service_name": name, "service_types": "Static"}
        files = [(key, (None, value)) for key, value in fields.items()]
        files.append(("zip_file", ("site.zip", _site(), "application/zip")))
        answer = await admin.post("/service", files=files)
        assert answer.status_code == 202, answer.text
        job_id, service_id = answer.json()["job_id"], answer.json()["service_id"]
        engine = docker.DockerClient(base_url=localcloud.url.replace("http://", "tcp://"))
        mine = {"label": [f"{JOB_LABEL}={job_id}"]}
        await _until(lambda: engine.api.containers(all=True, filters=mine))
        (container,) = engine.api.containers(all=True, filters=mine)
        # The compensation's removal of the container (by its id) hangs past the cool-off.
        hang = localcloud.inject_fault(
            method="DELETE",
            path_contains=f"/containers/{container['Id']}",
            fail_next=1,
            code=None,
            latency_ms=20000,
        )
        cancel = await admin.post(f"/api/v1/jobs/{job_id}/cancel")
        assert cancel.status_code == 202, cancel.text
        cancelled_at = time.monotonic()
        await wait_until_fired(localcloud, hang)
        cleanup = await _force_cancel(admin, job_id, cancelled_at)
    finally:
        httpx.put(
            config, json={"docker_health_seconds": 0.5}, verify=client_context()
        ).raise_for_status()
        localcloud.clear_faults()
    assert cleanup["status"] == "completed", cleanup
    removed = cleanup["result"]["removed"]
    # Hosting's step removed its container; the runners' step (which runs for every job too) left
    # it alone: it carries the job's label, but under hosting's `managed-by`, not the runners'.
    assert f"docker container cs-svc-{service_id}-static-1" in removed, removed
    assert not [what for what in removed if what.startswith("runner container")], removed
    assert f"docker network cs-svc-{service_id}_default" in removed, removed
    assert f"workspace of service {service_id}" in removed, removed
    assert f"hosting service {service_id} record" in removed, removed
    assert _leftovers(engine, service_id) == {"containers": [], "networks": [], "volumes": []}
    assert not (settings.resolved_hosting_workspaces_dir / str(service_id)).exists()
    assert (await admin.get(f"/service/{service_id}")).status_code == 404


async def test_the_cleanup_leaves_a_vm_without_the_terminated_jobs_mark(settings, db):
    """The row names the job, but the VM under its VMID carries another job's mark (made outside
    the platform after the reservation, say): the VM stays, the row still becomes `failed`."""
    pve = proxmox.client(settings)
    job_id, other = f"create_vm-{uuid.uuid4().hex[:12]}", f"create_vm-{uuid.uuid4().hex[:12]}"
    userid, name = f"u-{uuid.uuid4().hex[:8]}", f"vm-{uuid.uuid4().hex[:8]}"
    # Free on the cluster and never used by the platform (its rows are kept, so a VMID another test
    # reserved may be free on the cluster again), as the API's allocator picks one.
    async with db.transaction() as session:
        used = await vm_store.highest_vmid(session) or 0
    vm_id = max(await asyncio.to_thread(pve.next_vmid), used + 1)
    while await asyncio.to_thread(pve.locate, vm_id) is not None:
        vm_id += 1
    async with db.transaction() as session:
        await user_store.create(session, userid, "Ana")
        assert await vm_store.reserve(
            session, vm_id, job_id, userid=userid, vm_name=name, os_type="ubuntu"
        )
    template = await asyncio.to_thread(pve.template, "sv1", "ubuntu")
    mark = f"conneskills job={other} user={userid}"
    await asyncio.to_thread(pve.clone, "sv1", template, vm_id, name, description=mark)

    result = await ActivityEnvironment().run(
        HostingJobCleanup(settings, db).cleanup_after_terminate, JobCleanupInput(job_id=job_id)
    )
    assert result.removed == []
    assert vms_named(pve, name) == [("sv1", vm_id)]
    async with db.transaction() as session:
        assert (await vm_store.get(session, vm_id)).status == "failed"
