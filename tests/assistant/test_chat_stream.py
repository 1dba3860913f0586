"""`POST /api/chat` with `stream: true`: the turn's events as SSE while they happen, from the
workflow's state, resumable with `Last-Event-ID`; and the `/ws` WebSocket with its `auth` first."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from core.settings import Settings
from tests.assistant.conftest import login
from tests.assistant.streams import sse_events, stream_turn

SEQUENCE = ["thinking", "tool_call", "tool_result", "thinking", "message", "done"]


@pytest.fixture(scope="module")
def assistant_settings(settings: Settings) -> Settings:
    import uuid

    return settings.model_copy(
        update={
            "task_queue": f"assistant-{uuid.uuid4().hex[:8]}",
            "assistant_ws_auth_seconds": 1.0,
        }
    )


async def test_a_streamed_turn_sends_its_events_and_resumes_after_the_last_id(
    console, assistant_worker, by_key
):
    conversation = (await console.post("/api/conversations", json={"title": "s"})).json()["id"]
    events, job_id = await stream_turn(console, conversation, "Lista los jobs")
    assert [e["type"] for e in events] == SEQUENCE
    assert [e["id"] for e in events] == list(range(1, len(SEQUENCE) + 1))
    call, result = events[1], events[2]
    assert call["tool"] == "list_jobs" and isinstance(call["params"], dict)
    assert result["tool"] == "list_jobs" and result["ok"] is True
    # A long listing (a busy platform) reaches the model cut, as text; a short one as its JSON.
    assert "jobs" in result["result"]
    assert events[4]["content"].startswith("Here is what the tools found:")
    assert events[5]["job_id"] == job_id and events[5]["conversation_id"] == conversation

    path = f"/api/chat/turns/{job_id}/events"
    async with console.stream("GET", path, headers={"Last-Event-ID": "2"}) as again:
        assert again.status_code == 200
        assert await sse_events(again) == events[2:]
    async with console.stream("GET", path) as whole:
        assert await sse_events(whole) == events

    # Another caller's turn is as unknown as one that does not exist.
    assert (await by_key.get(path)).status_code == 404
    missing = await console.get("/api/chat/turns/assistant_turn-000000000000/events")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    assert (await console.get(path, headers={"Last-Event-ID": "x"})).status_code == 400

    # The answer is saved as with a whole answer.
    detail = (await console.get(f"/api/conversations/{conversation}")).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]


def _ws_url(assistant_server) -> str:
    return assistant_server.url.replace("http://", "ws://") + "/ws"


async def test_the_socket_closes_with_1008_without_auth(assistant_server):
    async with websockets.connect(_ws_url(assistant_server)) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd.code == 1008

    async with websockets.connect(_ws_url(assistant_server)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": "forged.token.here"}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd.code == 1008

    async with websockets.connect(_ws_url(assistant_server)) as ws:
        await ws.send(json.dumps({"type": "chat", "conversation_id": "conv_x", "message": "hi"}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd.code == 1008


async def test_a_turn_over_the_socket_sends_its_events_in_order(
    console, assistant_server, assistant_settings, assistant_worker
):
    conversation = (await console.post("/api/conversations")).json()["id"]
    token = await login(assistant_server.url, assistant_settings)
    async with websockets.connect(_ws_url(assistant_server)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await ws.recv())["type"] == "authenticated"
        await ws.send(json.dumps({"type": "chat", "conversation_id": "conv_nope", "message": "x"}))
        refused = json.loads(await ws.recv())
        assert refused["type"] == "error" and refused["code"] == "NOT_FOUND"

        await ws.send(
            json.dumps(
                {"type": "chat", "conversation_id": conversation, "message": "Lista los jobs"}
            )
        )
        started = json.loads(await ws.recv())
        assert started["type"] == "turn" and started["conversation_id"] == conversation
        events = []
        while not events or events[-1]["type"] not in ("done", "error"):
            events.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
    assert [e["type"] for e in events] == SEQUENCE
    assert [e["id"] for e in events] == list(range(1, len(SEQUENCE) + 1))
    assert {e["job_id"] for e in events} == {started["job_id"]}
