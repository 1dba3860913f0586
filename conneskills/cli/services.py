"""`conneskills services …`: Cloud Run services; deploy, update and delete are jobs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from conneskills.cli import output
from conneskills.cli.context import (
    FileOpt,
    HoldOpt,
    IdemOpt,
    JsonOpt,
    TimeoutOpt,
    UsageProblem,
    WaitOpt,
    YesOpt,
    job_options,
    load_body,
    pairs,
    state,
)
from conneskills.cli.started import start_job

app = typer.Typer(help="Services on Cloud Run.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="The service's name.")]
OptName = Annotated[
    str | None, typer.Argument(help="The service's name (or `service_name` in --file).")
]
Image = Annotated[str | None, typer.Option(help="The container image.")]
Env = Annotated[list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE, repeatable.")]
Secret = Annotated[
    list[str] | None,
    typer.Option("--secret", help="ENV=SECRET_NAME: mount a secret (the key needs `secrets`)."),
]
Label = Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE, repeatable.")]
Public = Annotated[
    bool | None, typer.Option("--public/--private", help="Who may invoke it (default private).")
]

PlanHash = Annotated[
    str | None,
    typer.Option(
        "--plan-hash",
        help="Apply only if the service still matches this plan (`services plan`); else the job "
        "fails with `stale plan`.",
    ),
]


def _body(
    file, name, image, region, customer, port, cpu, memory, min_instances, max_instances, env,
    secret, label, public,
) -> dict[str, Any]:  # fmt: skip
    """The file's fields, then the flags over them."""
    body = load_body(file)
    flags = {
        "service_name": name, "image": image, "region": region, "customer": customer,
        "port": port, "cpu": cpu, "memory": memory, "min_instances": min_instances,
        "max_instances": max_instances, "allow_public_access": public,
    }  # fmt: skip
    body.update({k: v for k, v in flags.items() if v is not None})
    for field, values, option in (("env_vars", env, "--env"), ("secrets", secret, "--secret"),
                                  ("labels", label, "--label")):  # fmt: skip
        if values:
            merged = dict(body.get(field) or {})
            merged.update(pairs(values, option))
            body[field] = merged
    if not body.get("service_name"):
        raise UsageProblem("name the service: an argument, or `service_name` in --file")
    return body


@app.command("list")
def list_services(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Option(help="A customer prefix.")] = None,
    status: Annotated[str | None, typer.Option()] = None,
    region: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    offset: Annotated[int | None, typer.Option(min=0)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Services on Cloud Run joined with the registry."""
    page = (
        state(ctx)
        .client()
        .services.list(customer=customer, status=status, region=region, limit=limit, offset=offset)
    )
    if as_json:
        output.print_json(page)
        return
    columns = ("name", "status", "category", "customer", "region", "url")
    output.table(page.services, columns, title=f"{page.total} services")


@app.command()
def get(
    ctx: typer.Context,
    name: Name,
    details: Annotated[bool, typer.Option("--details", help="Its full configuration.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """One service (with --details, its configuration)."""
    services = state(ctx).client().services
    output.show(services.details(name) if details else services.get(name), as_json)


@app.command()
def status(ctx: typer.Context, name: Name, as_json: JsonOpt = False) -> None:
    """Cloud Run's real state of the service."""
    output.show(state(ctx).client().services.status(name), as_json)


@app.command()
def deploy(
    ctx: typer.Context,
    name: OptName = None,
    file: FileOpt = None,
    image: Image = None,
    region: Annotated[str | None, typer.Option()] = None,
    customer: Annotated[str | None, typer.Option(help="A customer prefix.")] = None,
    port: Annotated[int | None, typer.Option()] = None,
    cpu: Annotated[str | None, typer.Option()] = None,
    memory: Annotated[str | None, typer.Option(help="512Mi, 1Gi, …")] = None,
    min_instances: Annotated[int | None, typer.Option()] = None,
    max_instances: Annotated[int | None, typer.Option()] = None,
    env: Env = None,
    secret: Secret = None,
    label: Label = None,
    public: Public = None,
    plan_hash: PlanHash = None,
    hold: HoldOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deploy a service (a DeployService job), from flags or a YAML/JSON file."""
    body = _body(file, name, image, region, customer, port, cpu, memory, min_instances,
                 max_instances, env, secret, label, public)  # fmt: skip
    if not body.get("image"):
        raise UsageProblem("a deploy needs --image (or `image` in --file)")
    options = job_options(ctx)
    start_job(
        ctx,
        lambda client: client.services.deploy(body, plan_hash=plan_hash, **options),
    )


@app.command()
def update(
    ctx: typer.Context,
    name: OptName = None,
    file: FileOpt = None,
    image: Image = None,
    region: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    cpu: Annotated[str | None, typer.Option()] = None,
    memory: Annotated[str | None, typer.Option()] = None,
    min_instances: Annotated[int | None, typer.Option()] = None,
    max_instances: Annotated[int | None, typer.Option()] = None,
    env: Env = None,
    secret: Secret = None,
    label: Label = None,
    public: Public = None,
    plan_hash: PlanHash = None,
    hold: HoldOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a service (unset fields keep their values; env vars are merged)."""
    body = _body(file, name, image, region, None, port, cpu, memory, min_instances,
                 max_instances, env, secret, label, public)  # fmt: skip
    options = job_options(ctx)
    start_job(
        ctx,
        lambda client: client.services.update(
            body["service_name"], body, plan_hash=plan_hash, **options
        ),
    )


@app.command()
def plan(
    ctx: typer.Context,
    name: OptName = None,
    file: FileOpt = None,
    image: Image = None,
    region: Annotated[str | None, typer.Option()] = None,
    customer: Annotated[str | None, typer.Option(help="A customer prefix.")] = None,
    port: Annotated[int | None, typer.Option()] = None,
    cpu: Annotated[str | None, typer.Option()] = None,
    memory: Annotated[str | None, typer.Option(help="512Mi, 1Gi, …")] = None,
    min_instances: Annotated[int | None, typer.Option()] = None,
    max_instances: Annotated[int | None, typer.Option()] = None,
    env: Env = None,
    secret: Secret = None,
    label: Label = None,
    public: Public = None,
    as_json: JsonOpt = False,
) -> None:
    """What a deploy (with --image) or an update (without) would change; starts nothing.

    Apply it with `deploy`/`update … --plan-hash HASH`."""
    body = _body(file, name, image, region, customer, port, cpu, memory, min_instances,
                 max_instances, env, secret, label, public)  # fmt: skip
    update = not body.get("image")
    if update and body.get("customer"):
        raise UsageProblem("--customer is for a deploy: give --image too")
    planned = state(ctx).client().services.plan(body, update=update)
    if as_json:
        output.print_json(planned)
        return
    title = f"{planned.action} {planned.service_name} in {planned.region}"
    if planned.changes:
        output.table(planned.changes, ("field", "change", "before", "after"), title=title)
    else:
        print(f"{title}: no changes")
    print(f"plan_hash: {planned.plan_hash}")


@app.command()
def delete(
    ctx: typer.Context,
    name: Name,
    yes: YesOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Undeploy a service (an UndeployService job; a deletion cannot be undone)."""
    start_job(
        ctx,
        lambda client: client.services.delete(name, idempotency_key=idempotency_key),
        ask=f"Delete the service {name}?",
    )


@app.command()
def reconcile(
    ctx: typer.Context,
    name: Name,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put back the configuration the platform last applied, undoing changes made outside it (a
    ReconcileService job; `services get` shows the drift)."""
    start_job(ctx, lambda client: client.services.reconcile(name, idempotency_key=idempotency_key))
