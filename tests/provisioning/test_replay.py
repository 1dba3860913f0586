"""Recorded DeployService histories replay on today's workflow code: a change that would break running
jobs fails here (guard such changes with workflow.patched)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from core.settings import Settings
from tests.helpers.platform import CODEC_KEY
from worker import build_replayer

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


@pytest.mark.parametrize(
    "history",
    [WorkflowHistory.from_json(p.stem, p.read_text()) for p in HISTORIES],
    ids=[p.stem for p in HISTORIES],
)
async def test_recorded_history_replays_without_nondeterminism(history: WorkflowHistory):
    replayer = build_replayer(Settings(codec_key=CODEC_KEY))
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
