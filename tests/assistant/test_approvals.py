"""Autonomy levels: a tool that changes things (`cancel_job`) is refused under `read_only`, run
under `full`, and under `semi` waits, as a durable state of the turn, for the user's approval (the
`assistant_approval` update, through `POST /api/chat/approvals/{id}` or a `/ws` message); a
silence past `assistant_approval_timeout_seconds` is a rejection."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import websockets

from core.settings import Settings
from tests.assistant.conftest import login
from tests.assistant.streams import stream_turn

CANCEL = "cancel job deploy-doesnotexist"
TIMEOUT = 4.0


@pytest.fixture(scope="module")
def assistant_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "task_queue": f"assistant-{uuid.uuid4().hex[:8]}",
            "assistant_approval_timeout_seconds": TIMEOUT,
        }
    )


async def _autonomy(http, level: str) -> str:
    answer = await http.put("/api/config", json={"agent": {"autonomy_level": level}})
    assert answer.status_code == 200, answer.text
    return (await http.post("/api/conversations")).json()["id"]


async def _follow(http, conversation: str):
    """Streams a turn; yields each event as it comes."""
    async with http.stream(
        "POST",
        "/api/chat",
        json={"conversation_id": conversation, "message": CANCEL, "stream": True},
    ) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                yield json.loads(line[6:])


async def test_an_approved_call_runs(console, assistant_worker, by_key):
    conversation = await _autonomy(console, "semi")
    seen = []
    async for event in _follow(console, conversation):
        seen.append(event)
        if event["type"] == "approval_required":
            assert event["tool"] == "cancel_job"
            assert event["params"] == {"job_id": "deploy-doesnotexist"}
            approval = event["approval_id"]
            # The validator refuses at once an approval that does not exist, and one asked of
            # someone else (the same 404).
            unknown = await console.post(
                f"/api/chat/approvals/{approval[:-1]}9", json={"approve": True}
            )
            assert unknown.status_code == 404, unknown.text
            other = await by_key.post(f"/api/chat/approvals/{approval}", json={"approve": True})
            assert other.status_code == 404
            decided = await console.post(f"/api/chat/approvals/{approval}", json={"approve": True})
            assert decided.status_code == 200, decided.text
            assert decided.json() == {"approval_id": approval, "status": "approved"}
    kinds = [e["type"] for e in seen]
    assert kinds[:4] == ["thinking", "tool_call", "approval_required", "tool_result"]
    assert kinds[-1] == "done"
    result = seen[3]
    # It ran: the platform's cancel route answered (the job does not exist).
    assert result["ok"] is False and "404" in json.dumps(result["result"])
    again = await console.post(f"/api/chat/approvals/{approval}", json={"approve": False})
    assert again.status_code in (404, 409)


async def test_a_rejected_call_does_not_run(
    console, assistant_server, assistant_settings, assistant_worker
):
    conversation = await _autonomy(console, "semi")
    token = await login(assistant_server.url, assistant_settings)
    url = assistant_server.url.replace("http://", "ws://") + "/ws"
    events = []
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await ws.recv())["type"] == "authenticated"
        await ws.send(
            json.dumps({"type": "chat", "conversation_id": conversation, "message": CANCEL})
        )
        while not events or events[-1].get("type") not in ("done", "error"):
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message["type"] == "turn":
                continue
            if message["type"] == "approval":
                assert message["status"] == "rejected"
                continue
            events.append(message)
            if message["type"] == "approval_required":
                await ws.send(
                    json.dumps(
                        {
                            "type": "approval",
                            "approval_id": message["approval_id"],
                            "approve": False,
                        }
                    )
                )
    result = next(e for e in events if e["type"] == "tool_result")
    assert result["ok"] is False and result["result"].startswith("rejected: the user did not")
    assert events[-1]["type"] == "done"


async def test_an_approval_that_does_not_come_in_time_is_a_rejection(console, assistant_worker):
    conversation = await _autonomy(console, "semi")
    events, _ = await stream_turn(console, conversation, CANCEL)
    kinds = [e["type"] for e in events]
    assert kinds[:4] == ["thinking", "tool_call", "approval_required", "tool_result"]
    assert events[3]["ok"] is False and events[3]["result"].startswith("rejected: nobody approved")
    assert kinds[-1] == "done"


@pytest.mark.parametrize(
    ("level", "expected"),
    [("read_only", "refused: cancel_job changes things"), ("full", "404")],
)
async def test_read_only_refuses_and_full_runs(console, assistant_worker, level, expected):
    conversation = await _autonomy(console, level)
    try:
        events, _ = await stream_turn(console, conversation, CANCEL)
    finally:
        await _autonomy(console, "semi")
    kinds = [e["type"] for e in events]
    assert "approval_required" not in kinds
    result = next(e for e in events if e["type"] == "tool_result")
    assert result["ok"] is False and expected in json.dumps(result["result"])


def test_the_first_slices_level_names_read_as_the_levels_they_meant():
    from api.schemas.assistant.config import AgentConfig

    assert AgentConfig.model_validate({"autonomy_level": "manual"}).autonomy_level == "read_only"
    assert AgentConfig.model_validate({"autonomy_level": "auto"}).autonomy_level == "full"
