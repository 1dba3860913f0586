"""What every job-starting command prints: the job, then (with --wait) its live view."""

from __future__ import annotations

import typer

from conneskills.cli import output
from conneskills.cli.watching import watch
from conneskills.client import Client

JOB_FIELDS = ["job_id", "status", "operation", "service_name", "estimated_time", "job_url"]


def started(
    client: Client,
    answer,
    *,
    as_json: bool,
    wait: bool,
    timeout: float | None,
    job_id: str | None = None,
    fields: list[str] | None = None,
) -> None:
    job_id = job_id or getattr(answer, "job_id", None)
    if not wait or job_id is None:
        output.show(answer, as_json, fields or JOB_FIELDS)
        return
    if not as_json:
        output.err.print(f"started {job_id}")
    raise typer.Exit(watch(client, job_id, as_json=as_json, timeout=timeout))
