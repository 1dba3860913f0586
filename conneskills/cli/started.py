"""What every job-starting command does: ask first (a deletion, unless --yes), start the job,
print it, and with --wait follow it to its end (exiting with its outcome)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from conneskills.cli import output
from conneskills.cli.context import state
from conneskills.cli.watching import watch
from conneskills.client import Client

JOB_FIELDS = ["job_id", "status", "operation", "service_name", "estimated_time", "job_url"]


def start_job(
    ctx: typer.Context,
    start: Callable[[Client], Any],
    *,
    ask: str | None = None,
    nothing: str | None = None,
    job_id: str | None = None,
    fields: list[str] | None = None,
) -> None:
    """`start(client)` sends the request. The command's own `--yes`, `--wait`, `--timeout` and
    `--json` (`yes`, `wait`, `timeout`, `as_json` in `ctx.params`) say whether to ask `ask` first,
    and how to answer. `nothing` is printed when the API answered without a job (nothing was left
    to do); `job_id` names the job when the answer does not; `fields` are the answer's to print."""
    options = ctx.params
    as_json, wait, timeout = options.get("as_json"), options.get("wait"), options.get("timeout")
    if ask and not options.get("yes"):
        typer.confirm(ask, abort=True, err=True)
    client = state(ctx).client()
    answer = start(client)
    if answer is None:
        output.err.print(nothing or "done: nothing to do")
        return
    job_id = job_id or getattr(answer, "job_id", None)
    if not wait or job_id is None:
        output.show(answer, bool(as_json), fields or JOB_FIELDS)
        return
    if not as_json:
        output.err.print(f"started {job_id}")
    raise typer.Exit(watch(client, job_id, as_json=bool(as_json), timeout=timeout))
