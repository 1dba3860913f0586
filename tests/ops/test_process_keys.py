"""A worker or API started by hand finds the codec key under the data dir (issue 7, #18)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from api.app import create_app
from contracts.provisioning.services import DeployServiceInput, ServiceSpec
from core.settings import Settings
from store.migrate import upgrade
from temporal.client import data_converter
from temporal.codec import ENCODING, EncryptionCodec
from tests.helpers.platform import CODEC_KEY, ROOT
from workflows.provisioning.services import DeployService


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNESKILLS_")}
    env["CONNESKILLS_WORKER_METRICS_PORT"] = "0"  # no port shared with other suites' workers
    env.update({f"CONNESKILLS_{k.upper()}": v for k, v in values.items()})
    return env


async def test_hand_started_worker_encrypts_with_the_data_dir_key(
    tmp_path: Path, temporal_address: str, localcloud
) -> None:
    # The suite's key: the session dev server's namespace is shared, and GET /jobs elsewhere in the
    # suite decodes every job's memo. What matters is that the worker gets it only from the file.
    key = CODEC_KEY
    (tmp_path / "codec_key").write_text(key + "\n")
    queue = f"ops-{uuid.uuid4().hex[:8]}"
    env = _env(
        data_dir=str(tmp_path),
        temporal_address=temporal_address,
        task_queue=queue,
        cloud_run_endpoint=localcloud.url,
        logging_endpoint=localcloud.url,
        secret_manager_endpoint=localcloud.url,
        iam_endpoint=localcloud.url,
    )
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}")
    worker = subprocess.Popen(
        [sys.executable, "worker.py"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL
    )
    try:
        client = await Client.connect(
            temporal_address, data_converter=data_converter(Settings(codec_key=key))
        )
        name = f"ops-{uuid.uuid4().hex[:8]}"
        handle = await client.start_workflow(
            DeployService.run,
            DeployServiceInput(
                spec=ServiceSpec(
                    service_name=name, image="us-docker.pkg.dev/cloudrun/container/hello"
                ),
                region="us-central1",
            ),
            id=f"deploy-{uuid.uuid4().hex[:12]}",
            task_queue=queue,
        )
        result = await handle.result()
        assert result["service_name"] == name
        # What the worker wrote (the result) is sealed with the data dir's key.
        plain = await Client.connect(temporal_address)
        history = await plain.get_workflow_handle(handle.id).fetch_history()
        completed = history.events[-1].workflow_execution_completed_event_attributes
        payload = completed.result.payloads[0]
        assert payload.metadata["encoding"] == ENCODING
        assert list(EncryptionCodec(key).decode_many([payload]))
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@pytest.mark.parametrize("case", ["unreadable", "not_writable"])
def test_worker_refuses_to_start_without_a_usable_codec_key(tmp_path: Path, case: str) -> None:
    if case == "unreadable":
        data = tmp_path
        (data / "codec_key").mkdir()
    else:
        (tmp_path / "file").write_text("")
        data = tmp_path / "file" / "data"
    run = subprocess.run(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=_env(data_dir=str(data), temporal_address="127.0.0.1:9"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert lines and "codec key" in lines[-1] and "codec_key" in lines[-1], run.stderr
    assert "Traceback" not in run.stderr


def test_api_refuses_to_start_without_a_usable_codec_key(tmp_path: Path) -> None:
    (tmp_path / "codec_key").write_text("short\n")
    with pytest.raises(SystemExit) as stop:
        create_app(Settings(data_dir=tmp_path, admin_api_key="csk_x"))
    assert "codec_key" in str(stop.value.code)
