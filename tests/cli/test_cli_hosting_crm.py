"""The real `conneskills` console script on the hosting system's long operations and the CRM's
accounts, against the suite's running platform (API, worker, the local cloud's Proxmox and Docker
emulators): `--wait` follows each job to its end, `--json` parses, refusals print the API's
message."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

from tests.cli.console import run_cli


async def cli_ok(api_server, *args: str) -> str:
    code, out, err = await run_cli(api_server, *args)
    assert code == 0, (args, out, err)
    return out


async def new_user(api_server) -> str:
    userid = f"u-{uuid.uuid4().hex[:8]}"
    out = await cli_ok(api_server, "users", "create", userid, "--name", "Ana", "--json")
    assert json.loads(out)["userid"] == userid
    return userid


async def test_a_vm_created_with_wait_is_read_listed_and_deleted_with_wait(api, api_server):
    userid = await new_user(api_server)
    name = f"vm-{uuid.uuid4().hex[:8]}"

    created = await cli_ok(
        api_server, "vms", "create", name, "--user", userid, "--os", "Ubuntu",
        "--cores", "2", "--memory", "1024", "--disk", "30", "--wait", "--json",
    )  # fmt: skip
    job = json.loads(created)  # --wait --json: the job as it ended
    assert job["status"] == "completed" and job["operation"] == "create_vm", job
    vm_id = job["result"]["vm_id"]

    vm = json.loads(await cli_ok(api_server, "vms", "get", str(vm_id), "--json"))
    assert (vm["vm_name"], vm["userid"], vm["status"], vm["cores"]) == (name, userid, "enabled", 2)
    listed = await cli_ok(api_server, "vms", "list", "--user", userid)
    assert name in listed and str(vm_id) in listed

    code, out, err = await run_cli(api_server, "vms", "delete", str(vm_id), "--yes", "--wait")
    assert code == 0, (out, err)
    assert "completed" in err
    vm = json.loads(await cli_ok(api_server, "vms", "get", str(vm_id), "--json"))
    assert vm["status"] == "deleted"

    # Refusals: the API's message and exit 4; bad flags exit 64 before anything is sent.
    code, out, err = await run_cli(api_server, "vms", "get", "999999999")
    assert code == 4 and "404" in err and "not_found" in err, (out, err)
    code, out, err = await run_cli(
        api_server, "vms", "create", "x", "--user", userid, "--os", "os2"
    )
    assert code == 4 and "os_type" in err, (out, err)
    code, out, err = await run_cli(api_server, "vms", "update", str(vm_id))
    assert code == 64 and "--cores" in err, (out, err)


def small_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "<h1>from the CLI</h1>")
    return buffer.getvalue()


async def test_a_docker_service_from_a_zip_with_wait_runs_then_is_deleted(
    api, api_server, tmp_path
):
    userid = await new_user(api_server)
    name = f"svc-{uuid.uuid4().hex[:8]}"
    archive = tmp_path / "site.zip"
    archive.write_bytes(small_zip())

    code, out, err = await run_cli(
        api_server, "docker-services", "create", name, "--user", userid, "--type", "Static",
        "--zip", str(archive), "--wait",
    )  # fmt: skip
    assert code == 0, (out, err)
    assert "completed" in err

    (listed,) = json.loads(
        await cli_ok(api_server, "docker-services", "list", "--user", userid, "--json")
    )
    assert listed["service_name"] == name and listed["status"] == "running"
    service_id = str(listed["id"])
    shown = await cli_ok(api_server, "docker-services", "get", service_id)
    assert name in shown and "running" in shown
    detail = json.loads(await cli_ok(api_server, "docker-services", "get", service_id, "--json"))
    assert {c["service"] for c in detail["containers"]} == {"static"}

    code, out, err = await run_cli(
        api_server, "docker-services", "delete", service_id, "--yes", "--wait", "--json"
    )
    assert code == 0, (out, err)
    assert json.loads(out)["status"] == "completed"

    code, _, err = await run_cli(
        api_server, "docker-services", "create", name, "--user", userid, "--type", "Static",
        "--zip", str(archive), "--git", "https://github.com/conneskills/shop",
    )  # fmt: skip
    assert code == 64 and "not both" in err


async def test_a_crm_account_is_created_listed_read_and_deactivated(api, api_server):
    name = f"ACME {uuid.uuid4().hex[:6]}"
    created = json.loads(await cli_ok(api_server, "crm", "accounts", "create", name, "--json"))
    assert created["nombre"] == name and created["api_key"] and created["activo"] is True
    account_id = created["id"]

    table = await cli_ok(api_server, "crm", "accounts", "list", "--page-size", "100")
    assert name in table and created["api_key_prefix"] in table
    shown = json.loads(await cli_ok(api_server, "crm", "accounts", "get", account_id, "--json"))
    assert shown["api_key"] is None  # the key is shown once, when it is made

    await cli_ok(api_server, "crm", "accounts", "delete", account_id, "--yes")
    shown = json.loads(await cli_ok(api_server, "crm", "accounts", "get", account_id, "--json"))
    assert shown["activo"] is False

    code, out, err = await run_cli(api_server, "crm", "accounts", "get", "not-a-uuid")
    assert code == 4 and "validation_error" in err, (out, err)
