"""Seed 002's SDK against a running platform whose assistant turns run on a real worker and are
answered by the local cloud's LLM emulator: `chat.send` answers with the tool calls (at once, or
by following a turn that outlasts the API's wait), `chat.stream` yields the turn's events, and
conversations and tools are read and managed; the sync client is the async one's twin."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from conneskills import AgentClient, AsyncAgentClient, ConneSkillsError
from core.settings import Settings
from tests.assistant.conftest import assistant_server, assistant_settings, assistant_worker
from tests.helpers.platform import ADMIN_KEY, ApiServer

__all__ = ["assistant_server", "assistant_settings", "assistant_worker"]  # fixtures, reused


@pytest.fixture(scope="module")
def no_wait_server(assistant_settings: Settings) -> Iterator[ApiServer]:
    """The same platform, whose `POST /api/chat` never waits for its turn (a 202 at once)."""
    with ApiServer(assistant_settings.model_copy(update={"assistant_turn_wait_seconds": 0})) as s:
        yield s


async def test_chat_send_answers_with_the_tool_calls_and_stream_yields_the_events(
    assistant_server, assistant_worker
):
    async with AsyncAgentClient(api_key=ADMIN_KEY, base_url=assistant_server.url) as client:
        conversation = await client.conversations.create("sdk")
        assert conversation.title == "sdk" and conversation.id.startswith("conv_")

        reply = await client.chat.send(conversation_id=conversation.id, message="Lista los jobs")
        assert reply.role == "assistant"
        assert reply.content.startswith("Here is what the tools found:")
        (call,) = reply.tool_calls
        assert call.name == "list_jobs" and call.ok is True

        events = [e async for e in client.chat.stream(conversation.id, "Lista los servicios")]
        types = [e.type for e in events]
        assert types[-1] == "done" and {"tool_call", "tool_result", "message"} <= set(types)
        assert [e.id for e in events] == list(range(1, len(events) + 1))
        (called,) = [e for e in events if e.type == "tool_call"]
        assert called.data["tool"] == "list_services"

        detail = await client.conversations.get(conversation.id)
        assert [m.role for m in detail.messages] == ["user", "assistant"] * 2
        assert conversation.id in [c.id for c in await client.conversations.list()]
        tools = {tool.name: tool for tool in await client.tools.list()}
        assert {"list_services", "list_jobs", "get_job"} <= set(tools)
        assert tools["get_job"].parameters["type"] == "object"
        # A tool run directly: a job of its own, answered with what the tool found.
        missing_job = "deploy-not-a-job"
        executed = await client.tools.execute("get_job", job_id=missing_job)
        assert executed["tool"] == "get_job" and executed["status"] == "completed"
        assert executed["job_id"].startswith("assistant_tool") and executed["ok"] is False
        assert missing_job in str(executed["result"])
        with pytest.raises(ConneSkillsError) as unknown:
            await client.tools.execute("no_such_tool")
        assert unknown.value.status_code == 404 and unknown.value.code == "TOOL_NOT_FOUND"

        await client.conversations.delete(conversation.id)
        with pytest.raises(ConneSkillsError) as missing:
            await client.conversations.get(conversation.id)
        assert missing.value.status_code == 404 and missing.value.code == "NOT_FOUND"
        with pytest.raises(ConneSkillsError) as refused:
            await client.chat.send(conversation_id="not a conversation", message="hola")
        assert refused.value.code == "INVALID_REQUEST"


async def test_the_sync_client_follows_a_turn_that_outlasts_the_api_s_wait(
    no_wait_server, assistant_worker
):
    def converse():
        with AgentClient(api_key=ADMIN_KEY, base_url=no_wait_server.url) as client:
            conversation = client.conversations.create()
            reply = client.chat.send(
                conversation_id=conversation.id, message="get job deploy-doesnotexist"
            )
            return conversation, reply

    # In a thread: the suite's worker runs in this test's event loop.
    conversation, reply = await asyncio.to_thread(converse)
    assert conversation.title == "Nueva conversación"
    (call,) = reply.tool_calls
    assert call.name == "get_job" and call.ok is False  # an unknown job: an answer, no failure
    assert reply.content.startswith("Here is what the tools found:")
