"""The assistant's tools outside and inside a chat: `GET /api/tools` lists them all (cloud tools
only enabled with their provider), `POST /api/tools/execute` runs one as an AssistantToolRun job
under the autonomy rules, and with AWS enabled "Lista las instancias EC2" is answered from the local
cloud's AWS (moto's server and the EC2 instances it was seeded with), through boto3 in the worker.
Azure can be listed but not enabled."""

from __future__ import annotations


async def _config(http, change: dict) -> None:
    answer = await http.put("/api/config", json=change)
    assert answer.status_code == 200, answer.text


async def test_tools_are_listed_and_executed_under_the_autonomy_rules(console, assistant_worker):
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
    finally:
        await _config(console, {"cloud_providers": {"aws": {"enabled": False}}})
