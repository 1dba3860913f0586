"""A hosting VM changed on the Proxmox cluster behind the platform's back (its cores, straight
through the local cloud's Proxmox API) shows `Drifted` with the field on `GET /vm/{id}` after the
drift observer's next run (its schedule triggered through Temporal's API), and one alert."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from temporalio.client import Client

from providers import proxmox
from tests.helpers import drift
from tests.helpers.drift import condition, observe
from tests.helpers.platform import wait_for_job


async def observed(api: httpx.AsyncClient, vm_id: int, after: str | None, seconds: float = 30):
    return await drift.observed(api, f"/vm/{vm_id}", after, seconds)


async def test_a_vm_changed_on_the_cluster_is_reported_drifted(
    api, client: Client, settings, localcloud, localcloud_settings
):
    localcloud.set_proxmox_task_seconds(0.3)
    try:
        userid = f"u-{uuid.uuid4().hex[:8]}"
        made = await api.post("/users", data={"userid": userid, "username": "Ana"})
        assert made.status_code == 201, made.text
        form = {
            "userid": userid,
            "vm_name": f"vm-{uuid.uuid4().hex[:8]}",
            "os_type": "Ubuntu",
            "cores": "2",
            "memory": "1024",
        }
        started = await api.post("/vm", data=form)
        assert started.status_code == 202, started.text
        job = await wait_for_job(api, started.json()["job_id"], seconds=90)
        assert job["status"] == "completed", job
        vm_id = started.json()["vm_id"]

        await observe(client, settings)
        synced = await observed(api, vm_id, None)
        assert condition(synced, "Synced")["status"] == "True", synced
        assert synced["drift"] == []

        pve = proxmox.client(localcloud_settings)
        node = synced["node"]
        await asyncio.to_thread(pve.api.nodes(node).qemu(vm_id).config.put, cores=4)
        await observe(client, settings)
        drifted = await observed(api, vm_id, synced["observed_at"])
        assert condition(drifted, "Drifted")["status"] == "True"
        assert drifted["drift"] == [{"field": "cores", "applied": 2, "live": 4}]
        alerts = await api.get("/api/v1/alerts", params={"kind": "resource_drifted"})
        mine = [a for a in alerts.json()["items"] if a["resource"] == f"vm/{vm_id}"]
        assert len(mine) == 1 and mine[0]["status"] == "open"

        # Put back on the cluster as the platform applied it: in sync again, the alert resolved.
        await asyncio.to_thread(pve.api.nodes(node).qemu(vm_id).config.put, cores=2)
        await observe(client, settings)
        back = await observed(api, vm_id, drifted["observed_at"])
        assert condition(back, "Synced")["status"] == "True" and back["drift"] == []
        alerts = await api.get("/api/v1/alerts", params={"kind": "resource_drifted"})
        mine = [a for a in alerts.json()["items"] if a["resource"] == f"vm/{vm_id}"]
        assert [a["status"] for a in mine] == ["resolved"]
    finally:
        localcloud.set_proxmox_task_seconds(1.0)
