"""What every job shares across the Temporal boundary: its state, memo, subject, and the names the API
and the workflows both use to reach them. Nothing here knows a system's domain."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

# Bounded so a query answer and the history stay small whatever a job logs.
MAX_LOG_LINES = 10_000
# The memo (read by listings, by GET /jobs/{id} of a finished job, and when no worker answers) keeps
# only the newest lines: it is written at every phase change and sent with every listed job, so it
# must stay small.
MEMO_LOG_LINES = 50

# Names crossing the boundary: the workflow defines them, the API reads them.
JOB_STATE_QUERY = "job_state"
JOB_MEMO_KEY = "job"
# What whoever starts a job gives it (JobStart), in one memo entry.
JOB_START_MEMO_KEY = "job_start"
# Updates a held job (phase NEEDS_ATTENTION) accepts; refused by their validators otherwise.
RETRY_UPDATE = "retry"
ROLLBACK_UPDATE = "rollback"
NEEDS_ATTENTION = "needs_attention"
# Phase (and status) of a job undoing what it did: after a failure, a rollback or a cancel, until it
# ends failed or cancelled. Nothing can be retried or rolled back meanwhile.
COMPENSATING = "compensating"
# Label (and `alert` field) of a job whose compensation left something behind: what the platform's
# alerting (the reaper Schedule) looks for in visibility.
ALERT_LABEL = "alert"
COMPENSATION_FAILED = "compensation_failed"
# Label of a job started by `retry` with `fresh: true`: the id of the job it retries.
RETRY_OF_LABEL = "retry_of"

# Well-known label keys: the jobs API shows them as the seed's `service_name` / `customer_prefix`.
SERVICE_LABEL = "service"
CUSTOMER_LABEL = "customer"


# Errors end up in job answers, listings and the Temporal UI: they never name an internal endpoint.
# REST client errors read "POST http://host:port/v2/...: message"; the prefix goes entirely.
_METHOD_URL = re.compile(r"^[A-Z]+ \S+://\S+: ")
# A URL ends before a quote or bracket around it and before a sentence's closing punctuation, so
# "repository 'http://host/x.git/' not found" keeps its quotes.
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"`<>]*[^\s'\"`<>.,;:)]", re.IGNORECASE)
_HOST_PORT = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b|\blocalhost:\d+\b")


def without_endpoints(text: str) -> str:
    """The text with its URLs and host:port pairs replaced by `<endpoint>`."""
    text = _METHOD_URL.sub("", text)
    return _HOST_PORT.sub("<endpoint>", _URL.sub("<endpoint>", text))


class JobSubject(BaseModel):
    """The one resource a job changes: a service, a database, a customer, a VM, a runner. Jobs on the
    same subject never run their steps at the same time."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    name: str = Field(min_length=1, max_length=200)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    @classmethod
    def from_key(cls, key: str | None, *, validate: bool = True) -> JobSubject | None:
        """The subject a `kind:name` key names (as visibility keeps it), None for no key. A reader
        that only shows it skips validation (`validate=False`): it is what a job wrote."""
        if not key or ":" not in key:
            return None
        kind, _, name = key.partition(":")
        if not validate:
            return cls.model_construct(kind=kind, name=name)
        return cls(kind=kind, name=name)


class StepRetry(BaseModel):
    """How long a step keeps retrying transient failures (an outage of the outside API): all its
    attempts together get `window_seconds`, waiting from `initial_interval_seconds` doubling up to
    `maximum_interval_seconds` between them, and given up on a lost worker after
    `heartbeat_seconds` without a heartbeat. Chosen by whoever starts the job (the API, from
    settings) and kept in the job's start memo, so it is fixed for the job's whole life and needs no
    field in any system's input. The defaults are the settings' defaults."""

    window_seconds: float = Field(15 * 60, gt=0)
    initial_interval_seconds: float = Field(1.0, gt=0)
    maximum_interval_seconds: float = Field(30.0, gt=0)
    # How long a step's activity may go without a heartbeat before its attempt counts as lost (a
    # worker killed) and runs again on another worker; jobs started before it had 5 s.
    heartbeat_seconds: float = Field(5.0, gt=0)


class FailurePolicy(BaseModel):
    """What a step that failed for good does: `rollback` (compensate at once, the default) or
    `hold` (the job waits in phase `needs_attention` for `retry` or `rollback`, and rolls back by
    itself after `hold_seconds`). Chosen by whoever starts the job and kept in its start memo, like
    StepRetry, so no system's input changes."""

    mode: Literal["hold", "rollback"] = "rollback"
    hold_seconds: float = Field(24 * 3600, gt=0)


class JobStart(BaseModel):
    """What a job is given at its start, in its memo: its retry window and failure policy (fixed
    for its whole life, whatever the settings become), the id of the API key that started it (not
    a secret: a fresh retry re-runs the job with the authorization its start was given, so only
    that key or an admin may ask for one) and, for a keyed start, its request's hash.

    One entry, so a start encodes and encrypts one memo payload instead of four (issue 9). Jobs
    started before it carry each field as a memo entry of its own, under the field's name: every
    reader goes through `from_memo`, which reads either."""

    step_retry: StepRetry | None = None
    on_failure: FailurePolicy | None = None
    started_by: str | None = None
    request_hash: str | None = None

    @classmethod
    def from_memo(cls, entry: Callable[[str], Any]) -> JobStart:
        """`entry(key)`: the memo entry's decoded value, None when absent."""
        value = entry(JOB_START_MEMO_KEY)
        if value is not None:
            return cls.model_validate(value)
        return cls.model_validate({name: entry(name) for name in LEGACY_START_MEMO_KEYS})

    def memo(self) -> dict[str, Any]:
        return {JOB_START_MEMO_KEY: self.model_dump(exclude_none=True)}


# The memo entries of a job started before JobStart (one per field).
LEGACY_START_MEMO_KEYS = tuple(JobStart.model_fields)


class JobControl(BaseModel):
    """The argument of the `retry` and `rollback` updates: the operator's comment, for the log."""

    comment: str | None = Field(None, max_length=1000)


class CompensationEntry(BaseModel):
    """One undo the job ran while compensating; `kept`: a change the job made that has no undo (a
    disk Proxmox grew, which it never shrinks), left as the step says."""

    step: str
    status: Literal["ok", "failed", "kept"]
    error: str | None = None


class RootCause(BaseModel):
    """Why the job failed: the step, the outside system's error (without endpoints), and where in
    the history it happened. `attempts` and the failure's own event id are read from the history
    by the API (the workflow only learns the scheduled event)."""

    step: str
    message: str
    run_id: str | None = None
    scheduled_event_id: int | None = None
    started_event_id: int | None = None
    attempts: int | None = None
    event_id: int | None = None


DEFAULT_CANCEL_EFFECT = "running steps stop, then the steps already done are undone"


class JobState(BaseModel):
    job_id: str
    operation: str
    subject: JobSubject | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    current_phase: str = "queued"
    progress: int = 0
    started_at: datetime | None = None
    # Jobs on the same subject this one waits for, the one holding it first; empty once it runs.
    queued_behind: list[str] = Field(default_factory=list)
    logs: list[str] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
    # What a cancel would do now, in words: the workflow knows which of its steps can be undone.
    cancel_effect: str = DEFAULT_CANCEL_EFFECT
    compensation: list[CompensationEntry] = Field(default_factory=list)
    alert: str | None = None
    root_cause: RootCause | None = None
    # When the workflow saw a cancel request (the API reads the exact time from the history).
    cancel_requested_at: datetime | None = None


class JobSummaryMemo(BaseModel):
    """What a workflow keeps in its memo so listings need no query per job, and what the API falls
    back on when no worker can answer: as of the job's last phase change, with the newest
    MEMO_LOG_LINES log lines and how many there were in all.

    `final`: the job has reached its final phase and the memo is kept equal to its state from then
    on (workflows/tracking.py), so a closed job whose memo holds all its lines is read from it,
    with no query (api/job_engine.py `finished_state`). Jobs that ended before it never say so;
    a running job's memo leaves the entry out."""

    current_phase: str = "queued"
    progress: int = 0
    started_at: datetime | None = None
    queued_behind: list[str] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
    logs: list[str] = Field(default_factory=list)
    log_count: int = 0
    cancel_effect: str = DEFAULT_CANCEL_EFFECT
    compensation: list[CompensationEntry] = Field(default_factory=list)
    alert: str | None = None
    root_cause: RootCause | None = None
    cancel_requested_at: datetime | None = None
    final: bool = False
