"""`conneskills customers|agents|runners …`: long operations are jobs (`--wait` follows them)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from conneskills.cli import output
from conneskills.cli.context import (
    FileOpt,
    HoldOpt,
    IdemOpt,
    JsonOpt,
    TimeoutOpt,
    WaitOpt,
    YesOpt,
    job_options,
    load_body,
    state,
)
from conneskills.cli.started import start_job

customers = typer.Typer(
    help="Customers: onboarding and offboarding are jobs.", no_args_is_help=True
)
agents = typer.Typer(help="AI agents: deploy and retire are jobs.", no_args_is_help=True)
runners = typer.Typer(
    help="GitHub Actions ephemeral runners (`runners` scope).", no_args_is_help=True
)


@customers.command("list")
def list_customers(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every customer."""
    found = state(ctx).client().customers.list()
    columns = ("id", "prefix", "name", "email", "active", "created_at")
    output.print_json(found) if as_json else output.table(found, columns)


@customers.command("get")
def get_customer(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="The customer's id, or --prefix's prefix.")],
    prefix: Annotated[bool, typer.Option("--prefix", help="CUSTOMER is a prefix.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """One customer."""
    api = state(ctx).client().customers
    output.show(api.by_prefix(customer) if prefix else api.get(customer), as_json)


@customers.command("create")
def create_customer(
    ctx: typer.Context,
    file: FileOpt = None,
    prefix: Annotated[str | None, typer.Option(help="Short lowercase prefix (`acme`).")] = None,
    name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    litellm: Annotated[bool | None, typer.Option("--litellm/--no-litellm")] = None,
    jira: Annotated[bool | None, typer.Option("--jira/--no-jira")] = None,
    zenml: Annotated[bool | None, typer.Option("--zenml/--no-zenml")] = None,
    hold: HoldOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Onboard a customer (an OnboardCustomer job)."""
    body = load_body(file)
    flags = {"prefix": prefix, "name": name, "email": email, "create_litellm": litellm,
             "create_jira_portal": jira, "create_zenml": zenml}  # fmt: skip
    body.update({k: v for k, v in flags.items() if v is not None})
    fields = ["id", "prefix", "name", "job_id", "provisioning_jobs"]
    start_job(ctx, lambda client: client.customers.create(body, **job_options(ctx)), fields=fields)


@customers.command("delete")
def delete_customer(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    yes: YesOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Offboard a customer (an OffboardCustomer job)."""
    start_job(
        ctx,
        lambda client: client.customers.delete(customer_id, **job_options(ctx)),
        ask=f"Offboard the customer {customer_id}?",
        nothing=f"deleted {customer_id} (nothing to offboard)",
    )


@agents.command("prompts")
def agent_prompts(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The prompts an agent can be deployed with."""
    found = state(ctx).client().agents.prompts()
    output.print_json(found) if as_json else output.table(
        found, ("prompt_id", "version", "prompt_type", "updated_at")
    )


@agents.command("get")
def get_agent(ctx: typer.Context, service_name: str, as_json: JsonOpt = False) -> None:
    """One agent (by its service name, `<prefix>-<agent>`)."""
    output.show(state(ctx).client().agents.get(service_name), as_json)


@agents.command("deploy")
def deploy_agent(
    ctx: typer.Context,
    file: FileOpt = None,
    customer_id: Annotated[str | None, typer.Option()] = None,
    agent_name: Annotated[str | None, typer.Option("--name")] = None,
    prompt_ref: Annotated[str | None, typer.Option("--prompt")] = None,
    image: Annotated[str | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option("--model", help="The default model.")] = None,
    hold: HoldOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deploy an agent (a DeployAgent job), from flags or a YAML/JSON file."""
    body = load_body(file)
    flags = {"customer_id": customer_id, "agent_name": agent_name, "prompt_ref": prompt_ref,
             "image": image, "default_model": model}  # fmt: skip
    body.update({k: v for k, v in flags.items() if v is not None})
    start_job(ctx, lambda client: client.agents.deploy(body, **job_options(ctx)))


@agents.command("delete")
def delete_agent(
    ctx: typer.Context,
    service_name: str,
    yes: YesOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Retire an agent (a RetireAgent job)."""
    start_job(
        ctx,
        lambda client: client.agents.delete(service_name, **job_options(ctx)),
        ask=f"Retire the agent {service_name}?",
        nothing=f"retired {service_name}",
    )


RUNNER_COLUMNS = ("runner_id", "status", "runner_name", "phase", "container_state", "created")


@runners.command("list")
def list_runners(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every runner."""
    found = state(ctx).client().runners.list()
    output.print_json(found) if as_json else output.table(found, RUNNER_COLUMNS)


@runners.command("get")
def get_runner(ctx: typer.Context, runner_id: str, as_json: JsonOpt = False) -> None:
    """One runner (its id is its job's id)."""
    output.show(state(ctx).client().runners.get(runner_id), as_json)


@runners.command("create")
def create_runners(
    ctx: typer.Context,
    file: FileOpt = None,
    scope: Annotated[str | None, typer.Option(help="repo or org.")] = None,
    scope_name: Annotated[str | None, typer.Option(help="owner/repo, or the organization.")] = None,
    count: Annotated[int | None, typer.Option(min=1, max=10)] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="Repeatable.")] = None,
    idempotency_key: IdemOpt = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until every runner is up (or has ended).")
    ] = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start ephemeral runners (one job each)."""
    body = load_body(file)
    flags = {"scope": scope, "scope_name": scope_name, "count": count, "labels": label or None}
    body.update({k: v for k, v in flags.items() if v is not None})
    client = state(ctx).client()
    answer = client.runners.create(body, **job_options(ctx))
    ids = [runner.runner_id for runner in answer.runners]
    if wait:
        deadline = None if timeout is None else time.monotonic() + timeout
        pending = set(ids)
        while pending:
            pending = {i for i in pending if client.runners.get(i).status == "creating"}
            if pending and deadline is not None and time.monotonic() > deadline:
                output.err.print(f"runners still creating after {timeout:g} s: {sorted(pending)}")
                raise typer.Exit(output.UNREACHABLE)
            if pending:
                time.sleep(1.0)
        found = [client.runners.get(i) for i in ids]
        output.print_json(found) if as_json else output.table(found, RUNNER_COLUMNS)
        failed = [r for r in found if r.status in ("failed", "cancelled")]
        raise typer.Exit(output.FAILED if failed else output.OK)
    if as_json:
        output.print_json(answer)
    else:
        output.table(answer.runners, ("runner_id", "status", "runner_name", "job_url"))


@runners.command("delete")
def delete_runner(
    ctx: typer.Context,
    runner_id: str,
    yes: YesOpt = False,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop a runner: its job is cancelled, its container and registration removed."""
    start_job(
        ctx,
        lambda client: client.runners.delete(runner_id),
        ask=f"Stop the runner {runner_id}?",
        job_id=runner_id,
        fields=["runner_id", "destroyed", "message"],
    )
