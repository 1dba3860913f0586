"""The assistant's tools outside and inside a chat: `GET /api/tools` lists them all (cloud tools
only enabled with their provider), `POST /api/tools/execute` runs one as an AssistantToolRun job
under the autonomy rules, and with AWS enabled "Lista las instancias EC2" is answered from the local
cloud's AWS (moto's server and the EC2 instances it was seeded with), through boto3 in the worker.
Azure can be listed but not enabled. `GET /api/metrics` counts what exists in every system."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text

from providers.google.cloud_run import CloudRunServices


async def _config(http, change: dict) -> None:
    answer = await http.put("/api/config", json=change)
    assert answer.status_code == 200, answer.text


async def test_tools_are_listed_and_executed_under_the_autonomy_rules(
    console, by_key, assistant_worker
):
    await _config(console, {"agent": {"autonomy_level": "read_only"}})
    tools = {t["name"]: t for t in (await console.get("/api/tools")).json()["tools"]}
    platform = {"get_service", "deploy_service", "retry_job", "list_secrets", "list_crm_leads"}
    cloud = {"list_ec2_instances", "stop_ec2_instance", "list_aws_regions"}
    assert platform | cloud <= set(tools)
    assert tools["list_ec2_instances"]["enabled"] is False  # AWS is off by default
    assert tools["deploy_service"]["mutating"] is True
    # The deploy tool's parameters are the route's own request model.
    assert "image" in tools["deploy_service"]["parameters"]["required"]

    ran = await console.post("/api/tools/execute", json={"tool": "list_jobs", "parameters": {}})
    assert ran.status_code == 200, ran.text
    body = ran.json()
    assert body["status"] == "completed" and body["ok"] is True
    assert body["job_id"].startswith("assistant_tool-") and "jobs" in body["result"]

    # Secrets: the model sees names (and scope, dates), never a value nor the labels.
    key = f"assistant-{uuid.uuid4().hex[:8]}"
    created = await by_key.post(
        "/api/v1/secrets", json={"scope": "GLOBAL", "key": key, "value": "never-shown-value"}
    )
    assert created.status_code == 201, created.text
    secrets = await console.post("/api/tools/execute", json={"tool": "list_secrets"})
    assert secrets.status_code == 200 and secrets.json()["ok"] is True, secrets.text
    assert any(key in s["name"] for s in secrets.json()["result"])
    assert "never-shown-value" not in secrets.text
    for secret in secrets.json()["result"]:
        assert set(secret) <= {"name", "scope", "created_at", "updated_at"}

    refused = await console.post(
        "/api/tools/execute", json={"tool": "cancel_job", "parameters": {"job_id": "deploy-x"}}
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "TOOL_NOT_ALLOWED"
    await _config(console, {"agent": {"autonomy_level": "semi"}})
    needs_approval = await console.post(
        "/api/tools/execute", json={"tool": "cancel_job", "parameters": {"job_id": "deploy-x"}}
    )
    assert needs_approval.status_code == 409
    assert needs_approval.json()["error"]["code"] == "APPROVAL_REQUIRED"

    bad = await console.post(
        "/api/tools/execute", json={"tool": "get_job", "parameters": {"job_id": "no spaces"}}
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_REQUEST"
    unknown = await console.post("/api/tools/execute", json={"tool": "nope", "parameters": {}})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "TOOL_NOT_FOUND"
    off = await console.post("/api/tools/execute", json={"tool": "list_aws_regions"})
    assert off.status_code == 409 and off.json()["error"]["code"] == "PROVIDER_DISABLED"

    azure = await console.put("/api/config", json={"cloud_providers": {"azure": {"enabled": True}}})
    assert azure.status_code == 400
    assert "azure" in azure.json()["error"]["message"]
    assert (await console.get("/api/config")).json()["cloud_providers"]["azure"]["enabled"] is False


async def test_ec2_instances_are_listed_in_chat_from_the_local_clouds_aws(
    console, assistant_worker, localcloud
):
    seeded = localcloud.aws_instances()
    assert len(seeded) == 3
    await _config(console, {"cloud_providers": {"aws": {"enabled": True}}})
    try:
        tools = {t["name"]: t for t in (await console.get("/api/tools")).json()["tools"]}
        assert tools["list_ec2_instances"]["enabled"] is True
        conversation = (await console.post("/api/conversations")).json()["id"]
        answer = await console.post(
            "/api/chat",
            json={"conversation_id": conversation, "message": "Lista las instancias EC2"},
        )
        assert answer.status_code == 200, answer.text
        (call,) = answer.json()["message"]["tool_calls"]
        assert call["name"] == "list_ec2_instances" and call["ok"] is True
        listed = {i["instance_id"]: i for i in call["result"]["instances"]}
        assert set(listed) == set(seeded)
        assert {i["name"] for i in listed.values()} == {"web-1", "worker-1", "batch-1"}
        assert "list_ec2_instances: 3" in answer.json()["message"]["content"]

        described = await console.post(
            "/api/tools/execute",
            json={"tool": "describe_ec2_instance", "parameters": {"instance_id": seeded[0]}},
        )
        assert described.status_code == 200, described.text
        assert described.json()["result"]["instance_id"] == seeded[0]
        missing = await console.post(
            "/api/tools/execute",
            json={
                "tool": "describe_ec2_instance",
                "parameters": {"instance_id": "i-0123456789abcdef0"},
            },
        )
        assert missing.json()["ok"] is False
        assert "InvalidInstanceID.NotFound" in missing.json()["result"]

        # Under `full` a tool that changes things runs directly: moto's instance stops, and
        # starts again (the seeded state, for the other tests).
        await _config(console, {"agent": {"autonomy_level": "full"}})
        running = next(i for i, v in listed.items() if v["name"] == "worker-1")
        for tool, state in (("stop_ec2_instance", "stopped"), ("start_ec2_instance", "running")):
            changed = await console.post(
                "/api/tools/execute", json={"tool": tool, "parameters": {"instance_id": running}}
            )
            assert changed.status_code == 200 and changed.json()["ok"] is True, changed.text
            now = await console.post(
                "/api/tools/execute",
                json={"tool": "describe_ec2_instance", "parameters": {"instance_id": running}},
            )
            assert now.json()["result"]["state"] == state

        # GCP: Cloud Run services through the Google client the platform uses.
        await _config(console, {"cloud_providers": {"gcp": {"enabled": True}}})
        cloud_run = await console.post(
            "/api/tools/execute", json={"tool": "list_cloud_run_services", "parameters": {}}
        )
        assert cloud_run.status_code == 200 and cloud_run.json()["ok"] is True, cloud_run.text
        assert isinstance(cloud_run.json()["result"]["services"], list)
    finally:
        await _config(
            console,
            {
                "agent": {"autonomy_level": "semi"},
                "cloud_providers": {"aws": {"enabled": False}, "gcp": {"enabled": False}},
            },
        )


async def _total(http, status: str) -> int:
    answer = await http.get("/api/v1/jobs", params={"status": status, "limit": 1})
    assert answer.status_code == 200, answer.text
    return answer.json()["total"]


async def test_metrics_count_what_exists(
    console, by_key, assistant_worker, localcloud, db, assistant_settings
):
    seeded = localcloud.aws_instances()
    failed_before, completed_before = (
        await _total(by_key, "failed"),
        await _total(by_key, "completed"),
    )
    answer = await console.get("/api/metrics")
    assert answer.status_code == 200, answer.text
    metrics = answer.json()
    failed_after, completed_after = (
        await _total(by_key, "failed"),
        await _total(by_key, "completed"),
    )
    alerts, infra = metrics["alerts"], metrics["infrastructure"]
    # Every job of the session is younger than 24 h: the listing's totals bracket the counts.
    assert failed_before <= alerts["details"]["failed_jobs_24h"] <= failed_after
    assert completed_before <= alerts["details"]["completed_jobs_24h"] <= completed_after
    details = alerts["details"]
    assert alerts["critical"] == (
        details["failed_jobs_24h"]
        + details["unhealthy_external_services"]
        + details["compensation_failed_alerts"]
    )
    assert alerts["warning"] == details["jobs_needing_attention"] + details["overdue_jobs"]

    async with db.transaction() as session:
        vms = await session.scalar(text("SELECT count(*) FROM hosting_vms"))
        docker = await session.scalar(text("SELECT count(*) FROM hosting_services"))
    assert (infra["vms"], infra["docker_services"]) == (vms, docker)
    runners = (await by_key.get("/api/v1/runners")).json()
    assert infra["runners"] == len(runners)
    cloud_run = await asyncio.to_thread(lambda: len(CloudRunServices(assistant_settings).list()))
    assert infra["cloud_run_services"] == cloud_run
    assert infra["aws_instances"] is None and infra["azure_vms"] is None  # AWS is off
    assert metrics["agent_stats"]["uptime_seconds"] >= 0

    await _config(console, {"cloud_providers": {"aws": {"enabled": True}}})
    try:
        conversation = (await console.post("/api/conversations")).json()["id"]
        turn = await console.post(
            "/api/chat", json={"conversation_id": conversation, "message": "Lista los jobs"}
        )
        assert turn.status_code == 200, turn.text
        after = (await console.get("/api/metrics")).json()
    finally:
        await _config(console, {"cloud_providers": {"aws": {"enabled": False}}})
    assert after["infrastructure"]["aws_instances"] == len(seeded)
    stats, before = after["agent_stats"], metrics["agent_stats"]
    assert stats["total_messages"] == before["total_messages"] + 2  # the question and the answer
    assert stats["tools_executed"] == before["tools_executed"] + 1
