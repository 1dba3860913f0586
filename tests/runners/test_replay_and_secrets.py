"""Recorded runner histories replay on today's workflow code (a change that would break running
runners fails here: guard it with workflow.patched), and a runner's JIT config, a credential,
appears in no history."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from core.settings import Settings
from tests.helpers.history import decoded_history_text
from tests.helpers.platform import CODEC_KEY, wait_for_job
from tests.helpers.runners import job_containers, new_repo, set_job_seconds, wait_for_runner
from worker import build_replayer

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


@pytest.mark.parametrize(
    "history",
    [WorkflowHistory.from_json(p.stem, p.read_text()) for p in HISTORIES],
    ids=[p.stem for p in HISTORIES],
)
async def test_recorded_runner_history_replays_without_nondeterminism(history: WorkflowHistory):
    replayer = build_replayer(Settings(codec_key=CODEC_KEY))
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_the_jit_config_is_in_the_container_and_in_no_history(api, client, localcloud):
    repo = new_repo(localcloud.url)
    set_job_seconds(localcloud.url, 2)
    answer = await api.post("/api/v1/runners", json={"scope": "repo", "scope_name": repo})
    runner_id = answer.json()["runners"][0]["runner_id"]
    await wait_for_runner(api, runner_id, "running")
    (container,) = job_containers(localcloud.url, runner_id)
    env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])
    jit = env["ACTIONS_RUNNER_INPUT_JITCONFIG"]
    assert len(jit) > 20
    await wait_for_job(api, runner_id)
    history = await decoded_history_text(client, runner_id)
    assert runner_id in history
    assert jit not in history
    job = (await api.get(f"/api/v1/jobs/{runner_id}")).json()
    assert jit not in str(job)
