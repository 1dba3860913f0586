"""JobStart: what a job is given at its start, read from one memo entry or from the entries of its
own that jobs started before it carry."""

from __future__ import annotations

from contracts.jobs import JOB_START_MEMO_KEY, FailurePolicy, JobStart, StepRetry


def test_a_start_memo_is_one_entry_without_the_fields_it_lacks():
    start = JobStart(step_retry=StepRetry(window_seconds=60), started_by="key-1")
    memo = start.memo()
    assert list(memo) == [JOB_START_MEMO_KEY]
    assert "request_hash" not in memo[JOB_START_MEMO_KEY]
    assert JobStart.from_memo(memo.get) == start


def test_the_older_entries_of_their_own_are_read_when_there_is_no_start_entry():
    older = {
        "step_retry": {"window_seconds": 30},
        "on_failure": {"mode": "hold", "hold_seconds": 90},
        "started_by": "key-2",
        "request_hash": "abc",
    }
    start = JobStart.from_memo(older.get)
    assert start.step_retry == StepRetry(window_seconds=30)
    assert start.on_failure == FailurePolicy(mode="hold", hold_seconds=90)
    assert (start.started_by, start.request_hash) == ("key-2", "abc")


def test_a_job_started_elsewhere_has_nothing_given():
    assert JobStart.from_memo({"job": {"current_phase": "running"}}.get) == JobStart()
