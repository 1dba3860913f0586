"""`jobs watch` and every `--wait`: a live view of a job, and the exit code of its outcome."""

from __future__ import annotations

from rich.console import Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from conneskills.cli import output
from conneskills.client import Client, JobUpdate

STYLE = {
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "needs_attention": "magenta",
    "compensating": "yellow",
}


def exit_code(status: str) -> int:
    if status == "needs_attention":
        return output.NEEDS_ATTENTION
    return output.JOB_EXIT.get(status, output.FAILED)


def _panel(update: JobUpdate) -> Table:
    job = update.job
    status = str(job.status)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("job", f"{job.job_id} ({job.operation or '-'})")
    grid.add_row("status", Text(status, style=STYLE.get(status, "cyan")))
    grid.add_row(
        "progress",
        Group(ProgressBar(total=100, completed=job.progress, width=30), Text(f"{job.progress}%")),
    )
    grid.add_row("phase", job.current_phase or "-")
    if job.queued_behind:
        grid.add_row("waiting for", ", ".join(job.queued_behind))
    return grid


def _summary(update: JobUpdate) -> None:
    job = update.job
    status = str(job.status)
    output.err.print(f"[{STYLE.get(status, 'cyan')}]{job.job_id} {status}[/]")
    if job.root_cause:
        output.err.print(f"  failed step: {job.root_cause.step}: {job.root_cause.message}")
    elif job.error:
        output.err.print(f"  error: {job.error}")
    if status == "needs_attention":
        output.err.print(f"  held: `conneskills jobs retry {job.job_id}` or `jobs rollback`")
    if job.result and status == "completed":
        output.err.print(f"  result: {output._cell(job.result)}")


def watch(
    client: Client,
    job_id: str,
    *,
    as_json: bool = False,
    timeout: float | None = None,
    interval: float = 1.0,
) -> int:
    """Follows the job, printing its log lines as they arrive under a live status (phase, step,
    progress); returns 0 completed, 1 failed, 2 cancelled, 3 needs attention."""
    last: JobUpdate | None = None
    if as_json:
        for update in client.jobs.follow(job_id, interval=interval, timeout=timeout):
            last = update
    else:
        # The live panel goes to stderr, the log lines to stdout: `watch … > job.log` keeps the log.
        with Live(console=output.err, refresh_per_second=4, transient=True) as live:
            for last in client.jobs.follow(job_id, interval=interval, timeout=timeout):
                if last.missed:
                    output.out.print(f"[dim]… {last.missed} lines not kept by the job[/dim]")
                for line in last.lines:
                    output.out.print(line, markup=False, highlight=False)
                live.update(_panel(last))
    assert last is not None
    if as_json:
        output.print_json(last.job)
    else:
        _summary(last)
    return exit_code(str(last.job.status))
