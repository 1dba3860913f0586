"""Job progress inside a workflow: phase, percent, log lines and memo, exposed by the `job_state` query."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import structlog

    from contracts.jobs import (
        COMPENSATING,
        JOB_MEMO_KEY,
        MAX_LOG_LINES,
        MEMO_LOG_LINES,
        NEEDS_ATTENTION,
        JobState,
        JobSubject,
        JobSummaryMemo,
    )
    from temporal import search_attributes as sa

# Visibility shows a compensating job as such (not `running`, nor `needs_attention` after a
# rollback or a cancel while held); histories recorded before it have no such upsert.
COMPENSATING_PATCH = "compensating-job-phase"
# A finished job's memo is its whole final state (marked `final`, re-saved after any later change),
# so the API reads a closed job from it instead of a query that replays its whole history on a
# worker. Histories recorded before it carry no marker, no `final` memo and no re-save.
FINAL_MEMO_PATCH = "final-job-memo"


class JobTracker:
    """Keeps a workflow's JobState; every change is deterministic (workflow.now) and replay-safe.

    From the job's final phase on (`complete`, or `fail` as failed or cancelled), its memo is
    `final`: every change after it (the log line of a lock that could not be given back or of an
    event not published, a label) saves the memo again in the same workflow task, so the memo of a
    closed job equals what the `job_state` query would answer (the newest MEMO_LOG_LINES lines of
    its log aside). The state must then change only through these methods, never by assigning
    `state` fields directly: a direct change after the final phase would not reach the memo."""

    def __init__(
        self, operation: str, subject: JobSubject | None, labels: dict[str, str] | None = None
    ):
        info = workflow.info()
        self.state = JobState(
            job_id=info.workflow_id,
            operation=operation,
            subject=subject,
            labels={k: v for k, v in (labels or {}).items() if v},
        )
        self._before_hold: tuple[str, int] | None = None
        # Whether the memo is the job's final state (see the class docstring).
        self._final = False
        self._log = structlog.get_logger("workflow").bind(
            job_id=info.workflow_id,
            workflow_id=info.workflow_id,
            run_id=info.run_id,
            workflow_type=info.workflow_type,
        )

    def log(self, message: str, **fields: Any) -> None:
        self._append_log(message, **fields)
        if self._final:
            self._save_memo()

    def _append_log(self, message: str, **fields: Any) -> None:
        """The line without a memo save: for the methods that save the memo themselves."""
        stamp = workflow.now().replace(tzinfo=None).isoformat(timespec="seconds")
        self.state.logs.append(f"[{stamp}] {message}")
        if len(self.state.logs) > MAX_LOG_LINES:
            del self.state.logs[: len(self.state.logs) - MAX_LOG_LINES]
        if not workflow.unsafe.is_replaying():
            with workflow.unsafe.sandbox_unrestricted():
                self._log.info(message, phase=self.state.current_phase, **fields)

    def label(self, key: str, value: str, message: str | None = None) -> None:
        """Adds a label found while the job runs (listings can filter on it from then on)."""
        self.state.labels[key] = value
        workflow.upsert_search_attributes([sa.LABELS.value_set(sa.label_values(self.state.labels))])
        self.log(message or f"labelled {key}={value}")

    def waiting(self, behind: list[str], message: str) -> None:
        """The jobs on the same subject this one waits for; it stays `queued` meanwhile."""
        if behind == self.state.queued_behind and behind:
            return
        self.state.queued_behind = behind
        if self.state.started_at is None and self.state.error is None:
            self.state.current_phase = f"waiting for {behind[0]}" if behind else "queued"
        self._append_log(message)
        self._save_memo()

    def on_cancel(self, effect: str) -> None:
        """Declares, in words, what a cancel arriving from now on does; the memo gets it with the
        next phase change (call this just before one), so it adds no command to the history."""
        changed = effect != self.state.cancel_effect
        self.state.cancel_effect = effect
        if changed and self._final:
            self._save_memo()

    def phase(self, name: str, progress: int, message: str | None = None) -> None:
        if self.state.started_at is None:
            self.state.started_at = workflow.now()
            workflow.upsert_search_attributes([sa.JOB_PHASE.value_set("running")])
        self.state.current_phase = name
        self.state.progress = progress
        self._append_log(message or name)
        self._save_memo()

    def hold(self, message: str) -> None:
        """The job waits for an operator (`retry` or `rollback`): phase `needs_attention`, in
        visibility too, with the root cause (set by the caller) in the memo."""
        self._before_hold = (self.state.current_phase, self.state.progress)
        self.state.current_phase = NEEDS_ATTENTION
        workflow.upsert_search_attributes([sa.JOB_PHASE.value_set(NEEDS_ATTENTION)])
        self._append_log(message)
        self._save_memo()

    def resume(self, message: str) -> None:
        """Back to the phase the job was held in, running again."""
        phase, progress = self._before_hold or ("running", self.state.progress)
        self._before_hold = None
        self.state.current_phase = phase
        self.state.progress = progress
        workflow.upsert_search_attributes([sa.JOB_PHASE.value_set("running")])
        self._append_log(message)
        self._save_memo()

    def complete(self, result: dict[str, Any], message: str = "completed") -> dict[str, Any]:
        self.state.current_phase = "completed"
        self.state.progress = 100
        self.state.result = result
        self._append_log(message)
        self._reach_final()
        self._save_memo()
        self._final_phase("completed")
        return result

    def fail(self, error: str, phase: str = "failed") -> None:
        self.state.current_phase = phase
        self.state.error = error
        self._append_log(f"{phase}: {error}")
        if phase in ("failed", "cancelled"):
            self._reach_final()
        self._save_memo()
        if phase == COMPENSATING and workflow.patched(COMPENSATING_PATCH):
            workflow.upsert_search_attributes([sa.JOB_PHASE.value_set(COMPENSATING)])
        if phase in ("failed", "cancelled"):
            self._final_phase(phase)

    def _final_phase(self, phase: str) -> None:
        # Visibility filters on the phase too (Web UI, GET /jobs): a finished job must not stay
        # `running`. Patched, so histories recorded before this change still replay.
        if workflow.patched("final-job-phase"):
            workflow.upsert_search_attributes([sa.JOB_PHASE.value_set(phase)])

    def _reach_final(self) -> None:
        # Asked once, at the first final phase (a patch is decided once a run): the marker goes
        # with the final memo's upsert, in the workflow task that ends the job's work.
        if not self._final:
            self._final = workflow.patched(FINAL_MEMO_PATCH)

    def _save_memo(self) -> None:
        memo = JobSummaryMemo(
            current_phase=self.state.current_phase,
            progress=self.state.progress,
            started_at=self.state.started_at,
            queued_behind=self.state.queued_behind,
            result=self.state.result,
            error=self.state.error,
            logs=self.state.logs[-MEMO_LOG_LINES:],
            log_count=len(self.state.logs),
            cancel_effect=self.state.cancel_effect,
            compensation=self.state.compensation,
            alert=self.state.alert,
            root_cause=self.state.root_cause,
            cancel_requested_at=self.state.cancel_requested_at,
            final=self._final,
        )
        value = memo.model_dump(mode="json")
        if not self._final:
            # The memo of a running job stays as it was (smaller, and what old histories hold).
            del value["final"]
        workflow.upsert_memo({JOB_MEMO_KEY: value})
