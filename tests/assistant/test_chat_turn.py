"""A chat turn end to end: POST /api/chat runs an AssistantTurn job on a real worker, whose LLM
(the local cloud's deterministic model, through the openai SDK) calls a platform tool that reads
the platform's own API, and answers; the turn is saved in the conversation."""

from __future__ import annotations


async def test_a_turn_calls_a_tool_and_answers_from_its_result(console, assistant_worker):
    conversation = (await console.post("/api/conversations", json={"title": "ops"})).json()["id"]
    tools = (await console.get("/api/tools")).json()["tools"]
    assert {"list_services", "list_jobs", "get_job"} <= {t["name"] for t in tools}

    answer = await console.post(
        "/api/chat", json={"conversation_id": conversation, "message": "Lista los jobs"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "completed" and body["job_id"]
    message = body["message"]
    (call,) = message["tool_calls"]
    assert call["name"] == "list_jobs" and call["ok"] is True
    assert "jobs" in call["result"]
    assert message["content"].startswith("Here is what the tools found:")
    assert "list_jobs:" in message["content"]

    detail = (await console.get(f"/api/conversations/{conversation}")).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["messages"][0]["content"] == "Lista los jobs"
    assert detail["messages"][1]["tool_calls"][0]["name"] == "list_jobs"
    listed = (await console.get("/api/conversations")).json()["conversations"]
    assert next(c for c in listed if c["id"] == conversation)["message_count"] == 2

    # The turn is a job like any other: its result is the answer.
    job = (await console.get(f"/api/v1/jobs/{body['job_id']}")).status_code
    assert job in (401, 403)  # a console token is not a platform key


async def test_a_tool_the_platform_refuses_is_an_answer_not_a_failure(
    console, assistant_worker, by_key
):
    conversation = (await console.post("/api/conversations")).json()["id"]
    answer = await console.post(
        "/api/chat",
        json={"conversation_id": conversation, "message": "get job deploy-doesnotexist"},
    )
    assert answer.status_code == 200, answer.text
    (call,) = answer.json()["message"]["tool_calls"]
    assert call["name"] == "get_job" and call["ok"] is False
    assert "404" in call["result"]
    job = await by_key.get(f"/api/v1/jobs/{answer.json()['job_id']}")
    assert job.json()["status"] == "completed"
