"""The real `conneskills` console script against a running platform (the suite's API server,
worker and local cloud): `watch` exits with the job's outcome, `--json` parses, a secret's value
goes through stdin only, and an API error prints the API's message."""

from __future__ import annotations

import asyncio
import json

from tests.cli.console import run_cli
from tests.helpers.faults import wait_until_fired
from tests.helpers.job_controls import refuse_access_policy
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import IMAGE


async def deploy(api_server, name: str, *extra: str) -> str:
    code, out, err = await run_cli(
        api_server, "services", "deploy", name, "--image", IMAGE, "--json", *extra
    )
    assert code == 0, err
    return json.loads(out)["job_id"]


async def test_watch_a_deploy_that_completes_exits_0_and_prints_its_log_lines(api, api_server):
    name = unique_name("cliok")
    job_id = await deploy(api_server, name)

    code, out, err = await run_cli(api_server, "jobs", "watch", job_id)

    assert code == 0, (out, err)
    assert f"{job_id} completed" in err
    job_lines = (await api.get(f"/api/v1/jobs/{job_id}/logs")).json()["logs"]
    assert job_lines and all(line in out for line in job_lines)

    code, out, err = await run_cli(api_server, "services", "status", name, "--json")
    assert code == 0, err
    assert json.loads(out)["name"] == name


async def test_watch_a_deploy_that_fails_exits_1_naming_the_failed_step(
    api, api_server, clean_faults
):
    name = unique_name("clifail")
    refuse_access_policy(clean_faults, name)
    job_id = await deploy(api_server, name)

    code, out, err = await run_cli(api_server, "jobs", "watch", job_id)

    assert code == 1, (out, err)
    assert f"{job_id} failed" in err
    assert "cloud_run.set_invokers" in err


async def test_watch_a_held_deploy_exits_3_and_rollback_ends_it_failed(
    api, api_server, clean_faults
):
    name = unique_name("clihold")
    refuse_access_policy(clean_faults, name)
    job_id = await deploy(api_server, name, "--hold")

    code, out, err = await run_cli(api_server, "jobs", "watch", job_id, "--json")

    assert code == 3, (out, err)
    assert json.loads(out)["status"] == "needs_attention"
    code, out, err = await run_cli(api_server, "jobs", "rollback", job_id, "-m", "by the CLI test")
    assert code == 0, err
    assert (await wait_for_job(api, job_id))["status"] == "failed"


async def test_watch_a_cancelled_deploy_exits_2(api, api_server, clean_faults):
    name = unique_name("clicancel")
    # The service's creation is held 20 s by the local cloud, so the job is surely running.
    fault = clean_faults.inject_fault(
        fail_next=1, code=None, method="POST", path_contains=f"serviceId={name}", latency_ms=20000
    )
    job_id = await deploy(api_server, name)
    watcher = asyncio.create_task(run_cli(api_server, "jobs", "watch", job_id))
    await wait_until_fired(clean_faults, fault, seconds=90)

    code, out, err = await run_cli(api_server, "jobs", "cancel", job_id, "--json")
    assert code == 0, err
    assert json.loads(out)["job_id"] == job_id

    code, out, err = await watcher
    assert code == 2, (out, err)
    assert f"{job_id} cancelled" in err


async def test_json_output_parses_for_lists_and_single_objects(api, api_server):
    name = unique_name("clijson")
    job_id = await deploy(api_server, name, "--wait")  # --wait --json: the final job
    code, out, err = await run_cli(api_server, "jobs", "list", "--json", "--limit", "5")
    assert code == 0, err
    page = json.loads(out)
    assert {"jobs", "total", "next_page_token"} <= set(page)
    code, out, err = await run_cli(api_server, "jobs", "get", job_id, "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "completed"
    code, out, err = await run_cli(api_server, "jobs", "logs", job_id, "--json")
    assert code == 0, err
    assert json.loads(out)["job_id"] == job_id


async def test_a_secret_created_from_stdin_never_appears_in_argv_or_output(api, api_server):
    key = unique_name("clisecret")
    value = f"v-{unique_name('value')}-s3cr3t"
    args = ("secrets", "create", key, "--scope", "GLOBAL", "--json")

    code, out, err = await run_cli(api_server, *args, stdin=value + "\n")

    assert code == 0, err
    assert value not in " ".join(args)
    assert value not in out and value not in err
    assert json.loads(out)["name"] == key
    stored = await api.get(f"/api/v1/secrets/{key}/value")
    assert stored.status_code == 200 and stored.json()["value"] == value  # the newline trimmed

    code, out, err = await run_cli(api_server, "secrets", "list", "--json")
    assert code == 0 and value not in out
    code, out, err = await run_cli(api_server, "secrets", "delete", key, "--yes")
    assert code == 0, err


async def test_an_api_error_prints_the_api_message_and_exits_non_zero(api, api_server):
    code, out, err = await run_cli(api_server, "jobs", "get", "deploy-000000000000")
    assert code == 4, (out, err)
    assert "404" in err and "not_found" in err

    # A body the API refuses: its message and each field it names, and no job.
    code, out, err = await run_cli(
        api_server, "services", "deploy", "Not_A_Name", "--image", IMAGE, "--port", "70000"
    )
    assert code == 4, (out, err)
    assert "invalid request" in err and "validation_error" in err
    assert "service_name: String should match pattern" in err
    assert "port: Input should be less than or equal to 65535" in err

    code, out, err = await run_cli(api_server, "jobs", "list", key="csk_not_a_key")
    assert code == 4 and "401" in err


async def test_bad_input_is_refused_before_anything_is_sent(api_server, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("- not\n- a mapping\n")
    code, _, err = await run_cli(api_server, "services", "deploy", "--file", str(spec))
    assert code == 64 and "mapping" in err
    code, _, err = await run_cli(api_server, "services", "deploy", "x", "--env", "NOEQUALS")
    assert code == 64 and "KEY=VALUE" in err
    code, _, err = await run_cli(api_server, "secrets", "create", "k", stdin="")
    assert code == 64 and "empty" in err


async def test_services_plan_prints_the_diff_and_the_hash_and_applies_with_it(api, api_server):
    name = unique_name("cliplan")
    code, out, err = await run_cli(
        api_server, "services", "plan", name, "--image", IMAGE, "-e", "A=1"
    )
    assert code == 0, err
    assert f"create {name}" in out and "env.A" in out and "image" in out
    plan_hash = out.strip().splitlines()[-1].removeprefix("plan_hash: ")
    assert len(plan_hash) == 64
    assert (await api.get(f"/api/v1/services/{name}")).status_code == 404

    job_id = await deploy(api_server, name, "-e", "A=1", "--plan-hash", plan_hash)
    assert (await wait_for_job(api, job_id))["status"] == "completed"

    # Without --image: the plan of an update; nothing left to change.
    code, out, err = await run_cli(api_server, "services", "plan", name, "-e", "A=1")
    assert code == 0, err
    assert f"update {name}" in out and "no changes" in out
    code, out, err = await run_cli(api_server, "services", "plan", name, "-e", "A=2", "--json")
    assert code == 0, err
    changes = json.loads(out)["changes"]
    assert changes == [{"field": "env.A", "change": "update", "before": "1", "after": "2"}]
