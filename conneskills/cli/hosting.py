"""`conneskills users|vms|docker-services …`: the hosting system (seed 001); VM and Docker service
changes are jobs (`--wait` follows them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
    state,
)
from conneskills.cli.secrets import read_value
from conneskills.cli.started import start_job

users = typer.Typer(
    help="Hosting users: the owners of VMs and Docker services.", no_args_is_help=True
)
vms = typer.Typer(
    help="Proxmox VMs: create, update, control and delete are jobs.", no_args_is_help=True
)
docker_services = typer.Typer(
    help="Docker services from a ZIP or a git repository: create and control are jobs.",
    no_args_is_help=True,
)

UserOpt = Annotated[str, typer.Option("--user", "-u", help="The hosting user's id.")]
VmId = Annotated[int, typer.Argument(help="The VM's id (its Proxmox VMID).")]
ServiceId = Annotated[int, typer.Argument(help="The service's id.")]
VM_JOB = ["job_id", "status", "operation", "vm_id", "job_url"]
SERVICE_JOB = ["job_id", "status", "operation", "service_id", "job_url"]


def _with_flags(file: Path | None, **flags: object) -> dict:
    """The file's fields, then the flags set over them."""
    body = load_body(file)
    body.update({k: v for k, v in flags.items() if v is not None})
    return body


@users.command("create")
def create_user(
    ctx: typer.Context,
    userid: Annotated[str, typer.Argument(help="The user's id (`u-1001`).")],
    name: Annotated[str, typer.Option("--name", help="The user's display name.")],
    as_json: JsonOpt = False,
) -> None:
    """Create a hosting user."""
    output.show(state(ctx).client().hosting.create_user(userid, name), as_json)


@users.command("get")
def get_user(ctx: typer.Context, userid: str, as_json: JsonOpt = False) -> None:
    """A user with their services, VMs and access URLs."""
    user = state(ctx).client().hosting.get_user(userid)
    if as_json:
        output.print_json(user)
        return
    output.record(user, ["userid", "username", "created_at", "access_urls"])
    output.table(user.services, ("id", "service_name", "status", "access_url"), title="services")
    output.table(user.vms, ("id", "vm_name", "status", "node", "access_url"), title="VMs")


@vms.command("list")
def list_vms(ctx: typer.Context, user: UserOpt, as_json: JsonOpt = False) -> None:
    """A user's VMs."""
    found = state(ctx).client().vms.list(user)
    columns = ("id", "vm_name", "os_type", "status", "node", "cores", "memory_mb", "disksize_gb")
    output.print_json(found) if as_json else output.table(found, columns)


@vms.command("get")
def get_vm(ctx: typer.Context, vm_id: VmId, as_json: JsonOpt = False) -> None:
    """One VM: its row and Proxmox's live view."""
    output.show(state(ctx).client().vms.get(vm_id), as_json)


@vms.command("create")
def create_vm(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="The VM's name (or `vm_name` in --file).")
    ] = None,
    file: FileOpt = None,
    user: Annotated[str | None, typer.Option("--user", "-u", help="Its owner.")] = None,
    os_type: Annotated[
        str | None, typer.Option("--os", help="ubuntu, debian, centos, rocky or windows.")
    ] = None,
    cores: Annotated[int | None, typer.Option(min=1)] = None,
    memory: Annotated[int | None, typer.Option(min=1, help="Memory in MB.")] = None,
    disk: Annotated[int | None, typer.Option(min=1, help="Disk size in GB.")] = None,
    ssh_key_file: Annotated[
        Path | None, typer.Option("--ssh-key-file", help="OpenSSH public key(s) to install.")
    ] = None,
    hold: HoldOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a VM (a CreateVM job); the answer names its VMID."""
    key = None
    if ssh_key_file is not None:
        try:
            key = ssh_key_file.read_text().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise UsageProblem(f"cannot read {ssh_key_file}: {error}") from None
    body = _with_flags(file, vm_name=name, userid=user, os_type=os_type, cores=cores,
                       memory=memory, disksize=disk, ssh_pub_key=key)  # fmt: skip
    start_job(ctx, lambda client: client.vms.create(body, **job_options(ctx)), fields=VM_JOB)


@vms.command("update")
def update_vm(
    ctx: typer.Context,
    vm_id: VmId,
    cores: Annotated[int | None, typer.Option(min=1)] = None,
    memory: Annotated[int | None, typer.Option(min=1, help="Memory in MB.")] = None,
    disk: Annotated[int | None, typer.Option(min=1, help="Disk size in GB (only larger).")] = None,
    hold: HoldOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a VM's cores, memory or disk, then restart it (an UpdateVM job)."""
    body = _with_flags(None, cores=cores, memory=memory, disksize=disk)
    if not body:
        raise UsageProblem("change something: --cores, --memory or --disk")
    start_job(ctx, lambda client: client.vms.update(vm_id, body, **job_options(ctx)), fields=VM_JOB)


@vms.command("control")
def control_vm(
    ctx: typer.Context,
    vm_id: VmId,
    action: Annotated[
        str,
        typer.Argument(help="start, stop, shutdown, restart, reboot, pause, resume (or delete)."),
    ],
    yes: YesOpt = False,
    hold: HoldOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Power a VM on or off, restart, pause or resume it (a ControlVM job)."""
    ask = f"Delete the VM {vm_id}?" if action == "delete" else None
    start_job(
        ctx, lambda client: client.vms.control(vm_id, action, **job_options(ctx)), ask=ask,
        fields=VM_JOB,
    )  # fmt: skip


@vms.command("delete")
def delete_vm(
    ctx: typer.Context,
    vm_id: VmId,
    yes: YesOpt = False,
    hold: HoldOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete a VM (a DeleteVM job; it cannot be undone)."""
    start_job(
        ctx, lambda client: client.vms.delete(vm_id, **job_options(ctx)),
        ask=f"Delete the VM {vm_id}?", fields=VM_JOB,
    )  # fmt: skip


@vms.command("connect")
def connect_vm(ctx: typer.Context, vm_id: VmId, as_json: JsonOpt = False) -> None:
    """A noVNC console ticket for the VM (a credential: `--json` prints it whole)."""
    console = state(ctx).client().vms.connect(vm_id)
    if as_json:
        output.print_json(console)
        return
    output.record(console, ["vm_id", "node", "host", "port", "user", "websocket_path"])
    output.err.print("[dim]the ticket is a credential: `--json` prints it[/dim]")


@docker_services.command("list")
def list_docker_services(ctx: typer.Context, user: UserOpt, as_json: JsonOpt = False) -> None:
    """A user's Docker services."""
    found = state(ctx).client().docker_services.list(user)
    columns = ("id", "service_name", "service_types", "status", "access_url")
    output.print_json(found) if as_json else output.table(found, columns)


@docker_services.command("types")
def docker_service_types(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """What a service can be made of (`--type`)."""
    types = state(ctx).client().hosting.service_types()
    output.print_json(types) if as_json else print("\n".join(types))


@docker_services.command("get")
def get_docker_service(ctx: typer.Context, service_id: ServiceId, as_json: JsonOpt = False):
    """One service and its containers' live state (`--json`: with its Compose file)."""
    service = state(ctx).client().docker_services.get(service_id)
    if as_json:
        output.print_json(service)
        return
    fields = ["id", "userid", "service_name", "service_types", "primary_app_type", "status",
              "access_url", "access_urls", "job_id", "created_at", "updated_at"]  # fmt: skip
    output.record(service, fields)
    output.table(service.containers, ("name", "service", "state", "health", "ports"))


@docker_services.command("create")
def create_docker_service(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The service's name (lowercase, digits, `-`).")],
    user: UserOpt,
    service_type: Annotated[
        list[str],
        typer.Option("--type", "-t", help="Repeatable: Static, PHP, MySQL, … (see `types`)."),
    ],
    primary: Annotated[str | None, typer.Option(help="The type the access URL opens.")] = None,
    zip_path: Annotated[
        Path | None, typer.Option("--zip", help="The service's files, a ZIP archive.")
    ] = None,
    git: Annotated[
        str | None, typer.Option("--git", help="A git repository over HTTPS, instead.")
    ] = None,
    admin_pass_from: Annotated[
        Path | None,
        typer.Option(
            "--admin-pass-from",
            help="Add Filebrowser, with the `admin` password read from this file ('-': stdin).",
        ),
    ] = None,
    hold: HoldOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a Docker service (a CreateDockerService job) from a ZIP, a git repository, or
    nothing."""
    if zip_path is not None and git is not None:
        raise UsageProblem("give --zip or --git, not both")
    if zip_path is not None and not zip_path.is_file():
        raise UsageProblem(f"no such file: {zip_path}")
    admin_pass = None
    if admin_pass_from is not None:
        admin_pass = read_value(admin_pass_from, trim=True)
    body = {"userid": user, "service_name": name, "service_types": service_type,
            "primary_app_type": primary, "git_repo_url": git, "admin_pass": admin_pass}  # fmt: skip
    start_job(
        ctx,
        lambda client: client.docker_services.create(body, zip_file=zip_path, **job_options(ctx)),
        fields=SERVICE_JOB,
    )


@docker_services.command("control")
def control_docker_service(
    ctx: typer.Context,
    service_id: ServiceId,
    action: Annotated[str, typer.Argument(help="start, shutdown (or stop), restart (or delete).")],
    yes: YesOpt = False,
    hold: HoldOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start, stop or restart a service's containers (a ControlDockerService job)."""
    ask = f"Delete the service {service_id}?" if action == "delete" else None
    start_job(
        ctx,
        lambda client: client.docker_services.control(service_id, action, **job_options(ctx)),
        ask=ask,
        fields=SERVICE_JOB,
    )


@docker_services.command("delete")
def delete_docker_service(
    ctx: typer.Context,
    service_id: ServiceId,
    yes: YesOpt = False,
    hold: HoldOpt = False,
    idempotency_key: IdemOpt = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete a service: its containers, network, volumes and files (it cannot be undone)."""
    start_job(
        ctx,
        lambda client: client.docker_services.delete(service_id, **job_options(ctx)),
        ask=f"Delete the service {service_id}?",
        fields=SERVICE_JOB,
    )
