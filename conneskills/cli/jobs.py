"""`conneskills jobs …`: list, read, follow and control jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from conneskills.cli import output
from conneskills.cli.context import JsonOpt, TimeoutOpt, state
from conneskills.cli.watching import watch as watch_job

app = typer.Typer(
    help="Jobs: list, get, logs, watch, cancel, retry, rollback.", no_args_is_help=True
)
JobId = Annotated[str, typer.Argument(help="The job id (`deploy-1a2b3c4d5e6f`).")]
Comment = Annotated[str | None, typer.Option("--comment", "-m", help="Why (kept in the audit).")]
COLUMNS = (
    "job_id",
    "status",
    "operation",
    "service_name",
    "progress",
    "current_phase",
    "created_at",
)


@app.command("list")
def list_jobs(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="queued, running, needs_attention, …")] = None,
    operation: Annotated[str | None, typer.Option(help="deploy, undeploy, …")] = None,
    service: Annotated[str | None, typer.Option(help="Jobs of this service.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Jobs per page.")] = 20,
    page_token: Annotated[str | None, typer.Option(help="The next page's token.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A page of jobs, newest first."""
    page = (
        state(ctx)
        .client()
        .jobs.list(
            status=status,
            operation=operation,
            service_name=service,
            limit=limit,
            page_token=page_token,
        )
    )
    if as_json:
        output.print_json(page)
        return
    output.table(page.jobs, COLUMNS, title=f"{page.total} jobs")
    if page.next_page_token:
        output.err.print(f"more: --page-token {page.next_page_token}")


@app.command()
def get(ctx: typer.Context, job_id: JobId, as_json: JsonOpt = False) -> None:
    """One job, live: status, progress, phase, result, error, root cause."""
    job = state(ctx).client().jobs.get(job_id)
    fields = [
        "job_id", "status", "operation", "service_name", "progress", "current_phase",
        "queued_behind", "created_at", "completed_at", "duration", "result", "error",
        "root_cause", "compensation", "alert", "actions", "temporal_ui_url",
    ]  # fmt: skip
    output.show(job, as_json, fields)


@app.command()
def logs(
    ctx: typer.Context,
    job_id: JobId,
    follow: Annotated[
        bool, typer.Option("--follow", "-F", help="Print lines as they arrive.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The job's log lines; `--follow` goes on until the job ends (or is held)."""
    client = state(ctx).client()
    if follow:
        for line in client.jobs.follow_logs(job_id):
            output.print_json(line) if as_json else print(line, flush=True)
        return
    answer = client.jobs.logs(job_id)
    if as_json:
        output.print_json(answer)
        return
    for line in answer.logs:
        print(line)
    if answer.total > answer.lines:
        output.err.print(f"[dim]{answer.total - answer.lines} older lines not kept[/dim]")


@app.command()
def watch(
    ctx: typer.Context,
    job_id: JobId,
    timeout: TimeoutOpt = None,
    interval: Annotated[float, typer.Option(min=0.2, help="Seconds between looks.")] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """A live view: phase, progress and log lines as they arrive. Exits 0 completed, 1 failed,
    2 cancelled, 3 needs attention."""
    code = watch_job(
        state(ctx).client(), job_id, as_json=as_json, timeout=timeout, interval=interval
    )
    raise typer.Exit(code)


@app.command()
def cancel(ctx: typer.Context, job_id: JobId, comment: Comment = None, as_json: JsonOpt = False):
    """Cancel: running steps stop, then what the job did is undone."""
    output.show(state(ctx).client().jobs.cancel(job_id, comment=comment), as_json)


@app.command()
def retry(
    ctx: typer.Context,
    job_id: JobId,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="A failed or cancelled job: start it again as a new job."),
    ] = False,
    comment: Comment = None,
    as_json: JsonOpt = False,
) -> None:
    """Retry a held job's step (or, with --fresh, a failed job as a new one)."""
    output.show(state(ctx).client().jobs.retry(job_id, fresh=fresh, comment=comment), as_json)


@app.command()
def rollback(ctx: typer.Context, job_id: JobId, comment: Comment = None, as_json: JsonOpt = False):
    """Roll a held job back: it undoes what it did and ends failed."""
    output.show(state(ctx).client().jobs.rollback(job_id, comment=comment), as_json)
