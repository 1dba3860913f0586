"""The ops assistant's asynchronous SDK: `AsyncAgentClient` (the source `_agent_sync.py` is
generated from).

Seed 002's "SDK" section, over its `/api/…` routes: `chat.send` (one turn, answered whole),
`chat.stream` (the turn's events as they happen), `conversations`, and `tools` (`list`, and
`execute` against the seed's `POST /api/tools/execute`). The caller is a platform API key with the
`assistant` scope (`X-API-Key`) or a console user's token (`POST /api/auth/login`, a bearer).
Models are the API's own (`api/schemas/assistant/…`), as in the platform's client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import httpx

from conneskills.client._async import AsyncTransport, _AsyncResource
from conneskills.client.errors import ConneSkillsError
from conneskills.client.models import ChatEvent
from conneskills.client.retry import RetryPolicy

if TYPE_CHECKING:
    from api.schemas.assistant.chat import ApprovalResponse, ToolView
    from api.schemas.assistant.conversations import (
        ConversationDetail,
        ConversationSummary,
        MessageView,
    )

CHAT = "api.schemas.assistant.chat"
CONVERSATIONS = "api.schemas.assistant.conversations"


class AsyncChat(_AsyncResource):
    """`POST /api/chat`: one turn of a conversation (an AssistantTurn job on the platform)."""

    _base = "/api/chat"

    async def send(self, conversation_id: str, message: str) -> MessageView:
        """The assistant's answer with its tool calls. A turn that outlasts the API's wait (a 202,
        still running) is followed through its events to its end, then read from the
        conversation, where the turn saved it. A turn that failed raises `ConneSkillsError`."""
        body = {"conversation_id": conversation_id, "message": message, "stream": False}
        answer = await self._call("POST", f"{CHAT}:ChatResponse", body=body)
        if answer.message is not None:
            return answer.message
        said = None
        async with aclosing(self.events(answer.job_id)) as events:
            async for event in events:
                said = event.data.get("content", said) if event.type == "message" else said
                _raise_if_failed(event, answer.job_id)
        detail = await AsyncConversations(self._t).get(conversation_id)
        replies = [m for m in detail.messages if m.role == "assistant"]
        return next((m for m in reversed(replies) if m.content == said), replies[-1])

    async def stream(self, conversation_id: str, message: str) -> AsyncIterator[ChatEvent]:
        """The turn's events as they happen (`thinking`, `tool_call`, `tool_result`, `message`, …)
        ending with `done` or `error`. A dropped connection is resumed where it stopped."""
        body = {"conversation_id": conversation_id, "message": message, "stream": True}
        turn: dict[str, str] = {}
        last = 0
        try:
            stream = self._sse(
                "POST", self._base, json=body, opened=lambda r: turn.update(r.headers)
            )
            async with aclosing(stream) as events:
                async for event in events:
                    chat_event = ChatEvent.of(event)
                    last = chat_event.id
                    yield chat_event
                    if chat_event.final:
                        return
        except (httpx.RemoteProtocolError, httpx.ReadError) as error:
            if "x-job-id" not in turn:
                raise ConneSkillsError(
                    f"the chat stream broke before it began: {error}", code="connection_error"
                ) from None
        async with aclosing(self.events(turn["x-job-id"], after=last)) as events:
            async for chat_event in events:
                yield chat_event

    async def events(self, job_id: str, *, after: int = 0) -> AsyncIterator[ChatEvent]:
        """A turn's events after the `after`-th (all by default) until its `done` or `error`, from
        `GET /api/chat/turns/{job_id}/events`; a dropped connection is resumed."""
        while True:
            try:
                path = self._path("turns", job_id, "events")
                stream = self._sse("GET", path, last_event_id=str(after))
                async with aclosing(stream) as events:
                    async for event in events:
                        chat_event = ChatEvent.of(event)
                        after = chat_event.id
                        yield chat_event
                        if chat_event.final:
                            return
                return  # the server ended the stream: the turn had ended
            except (httpx.RemoteProtocolError, httpx.ReadError):
                continue

    async def approve(self, approval_id: str, approve: bool = True) -> ApprovalResponse:
        """Approves (or, `approve=False`, rejects) a tool call its turn waits for (an
        `approval_required` event's `approval_id`)."""
        body = {"approve": approve}
        model = f"{CHAT}:ApprovalResponse"
        return await self._call("POST", model, "approvals", approval_id, body=body)


def _raise_if_failed(event: ChatEvent, job_id: str) -> None:
    if event.type == "error":
        message = str(event.data.get("message") or "the assistant turn failed")
        raise ConneSkillsError(message, code="turn_failed", details={"job_id": job_id})


class AsyncConversations(_AsyncResource):
    """`/api/conversations`: the caller's own conversations."""

    _base = "/api/conversations"

    async def list(
        self, *, limit: int | None = None, offset: int | None = None
    ) -> list[ConversationSummary]:
        """The latest updated first."""
        found = await self._get(f"{CONVERSATIONS}:ConversationList", limit=limit, offset=offset)
        return found.conversations

    async def get(self, conversation_id: str) -> ConversationDetail:
        """The conversation with its messages and their tool calls."""
        return await self._get(f"{CONVERSATIONS}:ConversationDetail", conversation_id)

    async def create(self, title: str | None = None) -> ConversationSummary:
        body = {"title": title}
        return await self._call("POST", f"{CONVERSATIONS}:ConversationSummary", body=body)

    async def delete(self, conversation_id: str) -> None:
        await self._call("DELETE", None, conversation_id)


class AsyncTools(_AsyncResource):
    """`/api/tools`: what a turn may call, and running one directly."""

    _base = "/api/tools"

    async def list(self) -> list[ToolView]:
        return (await self._get(f"{CHAT}:ToolList")).tools

    async def execute(self, tool: str, /, **parameters: Any) -> Any:
        """Runs `tool` with `parameters` (seed 002: `POST /api/tools/execute` with `{"tool",
        "parameters"}`): the API's answer, decoded."""
        body = {"tool": tool, "parameters": parameters}
        return await self._call("POST", "any", "execute", body=body)


class AsyncAgentClient:
    """The ops assistant (seed 002), asynchronously:

        async with AsyncAgentClient(api_key=key, base_url="http://127.0.0.1:8000") as client:
            conversation = await client.conversations.create("ops")
            reply = await client.chat.send(conversation_id=conversation.id, message="Lista los jobs")
            print(reply.content, reply.tool_calls)

    `api_key`: a platform key with the `assistant` scope; `token`: a console user's bearer token
    instead. Refusals raise `ConneSkillsError` (the seed's upper-case codes: `INVALID_REQUEST`,
    `NOT_FOUND`, …); 429 is retried after its `Retry-After`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = "http://127.0.0.1:8000",
        *,
        token: str | None = None,
        timeout: float = 90.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # The default timeout outlasts the API's wait for a turn (`assistant_turn_wait_seconds`).
        self._transport = AsyncTransport(
            base_url, api_key, timeout=timeout, retry=retry or RetryPolicy(), transport=transport
        )
        if token:
            self._transport.http.headers["Authorization"] = f"Bearer {token}"
        self.chat = AsyncChat(self._transport)
        self.conversations = AsyncConversations(self._transport)
        self.tools = AsyncTools(self._transport)

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncAgentClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
