"""`conneskills crm accounts …`: the CRM's accounts (seed 003, the `crm` scope); each change is
answered at once (no job)."""

from __future__ import annotations

from typing import Annotated

import typer

from conneskills.cli import output
from conneskills.cli.context import JsonOpt, YesOpt, state

crm = typer.Typer(help="The CRM (Centro de Control): accounts.", no_args_is_help=True)
accounts = typer.Typer(help="CRM accounts: each has an ingest API key.", no_args_is_help=True)
crm.add_typer(accounts, name="accounts")

AccountId = Annotated[str, typer.Argument(help="The account's id (a UUID).")]
COLUMNS = ("id", "nombre", "api_key_prefix", "activo", "auto_crear_campos", "created_at")


@accounts.command("list")
def list_accounts(
    ctx: typer.Context,
    page: Annotated[int, typer.Option(min=1)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=100)] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Active accounts, newest first."""
    found = state(ctx).client().crm_accounts.list(page=page, page_size=page_size)
    if as_json:
        output.print_json(found)
        return
    output.table(found.items, COLUMNS, title=f"{found.total} accounts (page {found.page})")


@accounts.command("get")
def get_account(ctx: typer.Context, account_id: AccountId, as_json: JsonOpt = False) -> None:
    """One account (a deleted one too: `activo` false)."""
    output.show(state(ctx).client().crm_accounts.get(account_id), as_json)


@accounts.command("create")
def create_account(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The account's name (`nombre`).")],
    auto_create: Annotated[
        bool,
        typer.Option(
            "--auto-create-fields/--no-auto-create-fields",
            help="Create a field for each new key a lead brings (`auto_crear_campos`).",
        ),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Create an account; its API key is shown in this answer only."""
    body = {"nombre": name, "auto_crear_campos": auto_create}
    output.show(state(ctx).client().crm_accounts.create(body), as_json)
    if not as_json:
        output.err.print("[yellow]keep the api_key now: it is never shown again[/yellow]")


@accounts.command("delete")
def delete_account(ctx: typer.Context, account_id: AccountId, yes: YesOpt = False) -> None:
    """Deactivate an account: its key stops ingesting, its data stays."""
    if not yes:
        typer.confirm(f"Deactivate the CRM account {account_id}?", abort=True, err=True)
    state(ctx).client().crm_accounts.delete(account_id)
    output.err.print(f"deactivated {account_id}")
