"""The recorded histories cover the workflow code that runs: every registered workflow type and
every patched branch has a history that replays (re-record with tests/helpers/record_histories.py),
and the histories the recorder wrote replay on today's code."""

from __future__ import annotations

import json

import pytest
from temporalio import workflow

from core.settings import Settings
from tests.helpers.histories import (
    RECORDED_DIR,
    coverage_of,
    history_files,
    load_history,
    patch_ids_in_source,
)
from tests.helpers.platform import CODEC_KEY
from worker import WORKFLOWS, build_replayer

RECORDED = sorted(RECORDED_DIR.glob("*.json"))
RERECORD = "record one with: python -m tests.helpers.record_histories <test files that run it>"


def _coverage():
    return [coverage_of(json.loads(path.read_text())) for path in history_files()]


def test_every_registered_workflow_type_has_a_recorded_history():
    recorded = {covered.workflow_type for covered in _coverage()}
    registered = {workflow._Definition.must_from_class(cls).name for cls in WORKFLOWS}
    assert registered - recorded == set(), RERECORD


def test_every_patched_branch_has_a_recorded_history_with_its_marker():
    recorded = set().union(*(covered.patch_ids for covered in _coverage()))
    missing = {pid: where for pid, where in patch_ids_in_source().items() if pid not in recorded}
    assert missing == {}, RERECORD


@pytest.mark.parametrize("path", RECORDED, ids=[path.stem for path in RECORDED])
async def test_a_recorded_history_replays_without_nondeterminism(path):
    history = load_history(path)
    replayer = build_replayer(Settings(codec_key=CODEC_KEY))
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
