"""The `conneskills` console script (typer + rich) over `conneskills.client`; see docs/cli.md."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from conneskills.cli import output
from conneskills.cli.context import State, UsageProblem
from conneskills.client import ConneSkillsError, JobWaitTimeout

app = typer.Typer(
    name="conneskills",
    help="Drive the ConneSkills Platform: services, jobs, secrets, customers, agents, runners, "
    "VMs, Docker services, CRM accounts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url", help="The API's address (else CONNESKILLS_API_URL, the profile)."
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", help="A profile of ~/.config/conneskills/profiles.toml."),
    ] = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds per HTTP request.")] = 30.0,
) -> None:
    """The key comes from CONNESKILLS_API_KEY or the profile, never from a flag."""
    ctx.obj = State(api_url=api_url, profile=profile, timeout=timeout)


def _register() -> None:
    from conneskills.cli import crm, hosting, jobs, secrets, services, tenants

    app.add_typer(jobs.app, name="jobs")
    app.add_typer(services.app, name="services")
    app.add_typer(secrets.app, name="secrets")
    app.add_typer(tenants.customers, name="customers")
    app.add_typer(tenants.agents, name="agents")
    app.add_typer(tenants.runners, name="runners")
    app.add_typer(hosting.users, name="users")
    app.add_typer(hosting.vms, name="vms")
    app.add_typer(hosting.docker_services, name="docker-services")
    app.add_typer(crm.crm, name="crm")


_register()


def _api_error(error: ConneSkillsError) -> int:
    if isinstance(error, JobWaitTimeout):
        output.err.print(f"[yellow]{error.message}[/yellow]")
        return output.UNREACHABLE
    if error.status_code is None:
        output.err.print(f"[red]error:[/red] {error.message}")
        return output.UNREACHABLE
    output.err.print(
        f"[red]error:[/red] {error.message} [dim]({error.status_code} {error.code})[/dim]",
        markup=True,
        highlight=False,
    )
    for field in error.fields:
        output.err.print(f"  {field.get('field')}: {field.get('message')}", markup=False)
    return output.API_ERROR


def main(argv: list[str] | None = None) -> int:
    """The console script: exit codes are docs/cli.md's (usage errors 64, not click's 2, which
    `watch` uses for a cancelled job)."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="conneskills", standalone_mode=False)
    except ConneSkillsError as error:
        return _api_error(error)
    except UsageProblem as error:
        output.err.print(f"[red]error:[/red] {error}", highlight=False)
        return output.USAGE
    except typer.Abort:
        output.err.print("aborted")
        return output.INTERRUPTED
    except KeyboardInterrupt:
        return output.INTERRUPTED
    except typer.Exit as done:
        return done.exit_code
    except typer.TyperException as error:  # a usage error: bad flag, missing argument
        error.show()
        return output.USAGE
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())
