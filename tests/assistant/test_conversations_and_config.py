"""Conversations persisted per owner, and the assistant's configuration (seed 002)."""

from __future__ import annotations


async def test_a_conversation_is_created_listed_read_and_deleted(console):
    created = await console.post("/api/conversations", json={"title": "Gestión de AWS"})
    assert created.status_code == 201, created.text
    conversation = created.json()
    assert conversation["id"].startswith("conv_") and conversation["message_count"] == 0
    listed = (await console.get("/api/conversations")).json()["conversations"]
    assert listed[0]["id"] == conversation["id"] and listed[0]["title"] == "Gestión de AWS"
    detail = (await console.get(f"/api/conversations/{conversation['id']}")).json()
    assert detail["messages"] == [] and detail["title"] == "Gestión de AWS"
    assert (await console.delete(f"/api/conversations/{conversation['id']}")).status_code == 204
    gone = await console.get(f"/api/conversations/{conversation['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "NOT_FOUND"


async def test_a_conversation_without_a_body_gets_the_default_title(console):
    created = await console.post("/api/conversations")
    assert created.status_code == 201, created.text
    assert created.json()["title"] == "Nueva conversación"


async def test_nobody_else_sees_a_users_conversation(console, by_key):
    mine = (await console.post("/api/conversations", json={"title": "mine"})).json()["id"]
    listed = (await by_key.get("/api/conversations")).json()["conversations"]
    assert mine not in {c["id"] for c in listed}
    for answer in (
        await by_key.get(f"/api/conversations/{mine}"),
        await by_key.delete(f"/api/conversations/{mine}"),
        await by_key.post("/api/chat", json={"conversation_id": mine, "message": "hola"}),
    ):
        assert answer.status_code == 404, answer.text
    assert (await console.get(f"/api/conversations/{mine}")).status_code == 200


async def test_config_is_merged_field_by_field_and_checked(console):
    before = (await console.get("/api/config")).json()
    assert set(before) == {"llm", "agent", "cloud_providers"}
    changed = await console.put(
        "/api/config", json={"llm": {"provider": "anthropic", "model": "claude-3-5-sonnet"}}
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["llm"] == {"provider": "anthropic", "model": "claude-3-5-sonnet"}
    assert after["agent"] == before["agent"]
    for body in (
        {"llm": {"provider": "nope"}},
        {"llm": {"model": "gpt-4"}},  # an OpenAI model for the Anthropic provider
        {"agent": {"autonomy_level": "total"}},
        {"surprise": 1},
    ):
        refused = await console.put("/api/config", json=body)
        assert refused.status_code == 400, body
        assert refused.json()["error"]["code"] == "INVALID_REQUEST"
    assert (await console.get("/api/config")).json() == after
    restored = await console.put("/api/config", json={"llm": before["llm"]})
    assert restored.json()["llm"] == before["llm"]
