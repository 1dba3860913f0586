"""`conneskills secrets …`: a value comes from stdin or a file, never from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from conneskills.cli import output
from conneskills.cli.context import JsonOpt, UsageProblem, state

app = typer.Typer(
    help="Secrets in Secret Manager (values never on the command line).", no_args_is_help=True
)
COLUMNS = ("name", "scope", "created_at", "updated_at")


def read_value(from_file: Path | None, trim: bool) -> str:
    """The value: a file, else stdin (a hidden prompt when stdin is a terminal)."""
    if from_file is not None and str(from_file) != "-":
        try:
            value = from_file.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise UsageProblem(f"cannot read {from_file}: {error}") from None
    elif sys.stdin.isatty():
        value = typer.prompt("Value", hide_input=True, confirmation_prompt=True, err=True)
    else:
        value = sys.stdin.read()
    if trim:
        value = value.rstrip("\r\n")
    if not value:
        raise UsageProblem("the secret's value is empty (pipe it in, or --from-file PATH)")
    return value


@app.command("list")
def list_secrets(
    ctx: typer.Context,
    scope: Annotated[str | None, typer.Option(help="global, external, customer, managed")] = None,
    customer: Annotated[str | None, typer.Option(help="A customer prefix.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, max=1000)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Secrets' names and scopes (never their values)."""
    secrets = state(ctx).client().secrets.list(scope=scope, customer=customer, limit=limit)
    output.print_json(secrets) if as_json else output.table(secrets, COLUMNS)


@app.command()
def create(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The key (`smtp-password`).")],
    scope: Annotated[str, typer.Option(help="GLOBAL, EXTERNAL, CUSTOMER or MANAGED.")] = "GLOBAL",
    customer: Annotated[str | None, typer.Option(help="With CUSTOMER: the prefix.")] = None,
    service: Annotated[str | None, typer.Option(help="With EXTERNAL/MANAGED: the service.")] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from-file", help="Read the value from this file ('-': stdin).")
    ] = None,
    trim: Annotated[
        bool, typer.Option("--trim/--no-trim", help="Drop the trailing newline (`echo` adds one).")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Create a secret; its value is read from stdin or --from-file."""
    value = read_value(from_file, trim)
    body = {"scope": scope, "key": key, "value": value, "customer": customer, "service": service}
    output.show(state(ctx).client().secrets.create(body), as_json)


@app.command()
def delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The secret's full name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete a secret."""
    if not yes:
        typer.confirm(f"Delete the secret {name}?", abort=True, err=True)
    state(ctx).client().secrets.delete(name)
    output.err.print(f"deleted {name}")
