"""The harness's own platform: its own local cloud (so a snapshot of it holds only what harness cases
did), its own data dir and task queue, the fault-injecting worker in a process it may SIGKILL, and the
API in a thread. Shared by the pytest fixtures and `make harness-steps`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from temporalio.client import Client

from core.settings import Settings
from localcloud.testing import LocalCloud
from providers.tls import client_context
from temporal.client import data_converter
from tests.harness.documents import documents_server
from tests.harness.fault_injector import FAULT_FILE_ENV, write_fault
from tests.helpers.local_http import LocalHttpServer
from tests.helpers.platform import ADMIN_KEY, ApiServer, make_settings, start_worker_process

WORKER_ENTRY = ("-m", "tests.harness.worker_main")
# The emulated waits a scenario's prerequisites (a deployed service, an onboarded customer, a created
# VM or Docker service) need not sit through: a long-running operation's, a Proxmox task's, a new
# container's health check. Set to none while a case prepares, put back before its first snapshot,
# so the case's own job sees the local cloud as it always did (a runner's job time, which the runner
# scenarios set themselves, is left alone).
QUICK_PREREQUISITES = {
    "lro_delay_seconds": 0.0,
    "proxmox_task_seconds": 0.0,
    "docker_health_seconds": 0.0,
}


@dataclass
class HarnessPlatform:
    settings: Settings
    cloud: LocalCloud
    api: httpx.AsyncClient
    client: Client
    fault_file: Path
    worker: subprocess.Popen = field(repr=False)
    log_path: Path = field(repr=False)
    # The outside API the assistant's scenarios learn (tests/harness/documents.py).
    documents: LocalHttpServer | None = field(default=None, repr=False)
    # What the worker process needs beyond start_worker_process's settings: where the assistant's
    # platform tools call this platform's API and with which key, and the outbound allow-list
    # naming `documents`.
    worker_env: dict[str, str] = field(default_factory=dict, repr=False)
    # The local cloud's own values of QUICK_PREREQUISITES' keys, as it started.
    emulated: dict[str, float] = field(default_factory=dict, repr=False)
    _cloud_control: httpx.AsyncClient | None = field(default=None, repr=False)

    @asynccontextmanager
    async def quick_prerequisites(self) -> AsyncIterator[None]:
        """QUICK_PREREQUISITES while the block runs, then the local cloud's own values again (as
        it started with them: no scenario changes those)."""
        await self._set_cloud_config(QUICK_PREREQUISITES)
        try:
            yield
        finally:
            await self._set_cloud_config(self.emulated)

    async def _set_cloud_config(self, values: dict[str, float]) -> None:
        # A connection of its own each time (no keep-alive): a pooled one left idle past the
        # emulator's keep-alive may be closed by it just as it is reused ("Server disconnected
        # without sending a response"). One client, whose TLS context costs CPU to build.
        if self._cloud_control is None:
            self._cloud_control = httpx.AsyncClient(
                verify=client_context(),
                base_url=self.cloud.url,
                timeout=30,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        answer = await self._cloud_control.put("/_localcloud/config", json=values)
        answer.raise_for_status()

    def arm(self, fault: dict) -> None:
        write_fault(self.fault_file, fault)

    def disarm(self) -> None:
        write_fault(self.fault_file, {})

    def start_worker(self) -> None:
        log = self.log_path.open("ab")
        self.worker = start_worker_process(
            self.settings,
            WORKER_ENTRY,
            env={FAULT_FILE_ENV: str(self.fault_file), **self.worker_env},
            stdout=log,
            stderr=log,
        )
        log.close()

    def ensure_worker(self) -> None:
        """Before a case: a worker that exited by itself (not killed by a case) would leave every
        job queued until the case times out, blamed on the job. Fails the case at once with the
        worker's last log lines, after starting a fresh worker for the next case."""
        code = self.worker.poll()
        if code is None:
            return
        try:
            tail = self.log_path.read_text(errors="replace").splitlines()[-15:]
        except OSError:
            tail = []
        self.start_worker()
        raise AssertionError(
            f"the harness's worker had exited ({code}) before the case; started again. "
            "Its log ends: " + "\n".join(tail)
        )

    def kill_worker(self) -> None:
        self.worker.kill()
        self.worker.wait()

    def stop_worker(self) -> None:
        self.worker.terminate()
        try:
            self.worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill_worker()


@asynccontextmanager
async def harness_platform(root: Path, temporal_address: str) -> AsyncIterator[HarnessPlatform]:
    root.mkdir(parents=True, exist_ok=True)
    # A loaded machine (six test processes on two cores) may take a while to start it.
    cloud = LocalCloud.start(root / "localcloud", lro_delay=0.1, build_seconds=0.5, timeout=90)
    documents = documents_server().__enter__()
    allowed = [f"127.0.0.1:{documents.port}"]
    try:
        settings = make_settings(
            root / "data",
            temporal_address,
            cloud.url,
            # Deletes answer 202 with their job at once, so the harness can cancel it.
            customer_offboard_wait_seconds=0,
            agent_retire_wait_seconds=0,
            runner_destroy_wait_seconds=0,
            runner_cleanup_wait_seconds=0,
            # The harness runs its runner sweeps itself (the RunnerCleanup scenario): a scheduled
            # one in the middle of a case would remove what the case prepared.
            runner_cleanup_interval_minutes=30 * 24 * 60,
            # The VM jobs speak to this local cloud's Proxmox emulator (its tasks take 0.3 s); the
            # API gives each VM job how often to poll them, so a VM case takes seconds.
            localcloud_proxmox_port=cloud.proxmox_port,
            proxmox_ca_bundle=cloud.ca_file,
            hosting_vm_task_poll_seconds=0.1,
            # The assistant's scenarios learn and call an API on loopback; `POST /api/chat` and
            # `POST /api/tools/execute` answer 202 with their job at once, so the harness can
            # cancel it.
            outbound_allowed_addresses=allowed,
            assistant_turn_wait_seconds=0,
            # A killed worker's held step is retried (after its heartbeat timeout) 0.2 s later
            # rather than the suite's 1 s: the kill cases test that the job resumes and completes,
            # not the backoff, which doubles from there as it does from 1 s.
            step_retry_initial_seconds=0.2,
        )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fault_file = root / "fault.json"
        write_fault(fault_file, {})
        client = await Client.connect(temporal_address, data_converter=data_converter(settings))
        with ApiServer(settings) as server:
            async with httpx.AsyncClient(
                verify=client_context(),
                base_url=server.url,
                headers={"X-API-Key": ADMIN_KEY},
                timeout=30,
            ) as http:
                platform = HarnessPlatform(
                    settings,
                    cloud,
                    http,
                    client,
                    fault_file,
                    None,
                    root / "worker.log",
                    documents,
                    {
                        "CONNESKILLS_ASSISTANT_PLATFORM_API_URL": server.url,
                        "CONNESKILLS_ADMIN_API_KEY": ADMIN_KEY,
                        "CONNESKILLS_OUTBOUND_ALLOWED_ADDRESSES": json.dumps(allowed),
                    },
                )
                config = cloud.config()
                platform.emulated = {key: config[key] for key in QUICK_PREREQUISITES}
                platform.start_worker()
                try:
                    yield platform
                finally:
                    platform.stop_worker()
                    if platform._cloud_control is not None:
                        await platform._cloud_control.aclose()
    finally:
        documents.__exit__(None, None, None)
        cloud.stop()
