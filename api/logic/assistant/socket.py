"""`/ws` (seed 002's WebSocket): the first message must be `{"type": "auth", "token"}` (a console
token or a `csk_…` API key with the `assistant` scope) within `assistant_ws_auth_seconds`, else the
socket closes with 1008 (policy violation). Then:

- `{"type": "chat", "conversation_id", "message"}` starts a turn: `{"type": "turn", "job_id",
  "conversation_id"}`, then the turn's events as the SSE stream sends them (`thinking`,
  `tool_call`, `approval_required`, `tool_result`, `message`, `done` or `error`; each with its
  `id` and `job_id`).
- `{"type": "approval", "approval_id", "approve": true|false}` decides a waiting tool call:
  `{"type": "approval", "approval_id", "status"}`.

A refused message is answered `{"type": "error", "code", "message"}` and the socket stays open.
Every chat and approval counts against the caller's rate limit, as the HTTP routes do."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from api.deps import PlatformState
from api.errors import ApiError
from api.logic.assistant import chat
from api.logic.assistant.auth import Caller, caller_for
from api.logic.assistant.rate_limit import limiter_for
from api.schemas.assistant.conversations import CONVERSATION_ID_PATTERN
from contracts.assistant.turn import MAX_CONTENT

log = structlog.get_logger(__name__)

POLICY_VIOLATION = 1008


class _Chat(BaseModel):
    model_config = ConfigDict(extra="ignore")
    conversation_id: str = Field(pattern=CONVERSATION_ID_PATTERN)
    message: str = Field(min_length=1, max_length=MAX_CONTENT)


class _Approval(BaseModel):
    model_config = ConfigDict(extra="ignore")
    approval_id: str = Field(max_length=250)
    approve: bool


class _Session:
    def __init__(self, socket: WebSocket, platform: PlatformState, caller: Caller) -> None:
        self.socket = socket
        self.platform = platform
        self.caller = caller
        self.sending = asyncio.Lock()
        self.turns: set[asyncio.Task[None]] = set()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.sending:
            await self.socket.send_json(message)

    async def error(self, code: str, message: str) -> None:
        await self.send({"type": "error", "code": code, "message": message})

    async def handle(self, message: Any) -> None:
        kind = message.get("type") if isinstance(message, dict) else None
        try:
            if kind == "chat":
                request = _Chat.model_validate(message)
                await self._count()
                job_id = await chat.start_turn(
                    self.platform, self.caller, request.conversation_id, request.message
                )
                await self.send(
                    {"type": "turn", "job_id": job_id, "conversation_id": request.conversation_id}
                )
                task = asyncio.create_task(self._forward(job_id), name=f"ws-{job_id}")
                self.turns.add(task)
                task.add_done_callback(self.turns.discard)
            elif kind == "approval":
                request = _Approval.model_validate(message)
                await self._count()
                outcome = await chat.decide(
                    self.platform, self.caller, request.approval_id, request.approve
                )
                await self.send({"type": "approval", **outcome.model_dump()})
            else:
                await self.error("INVALID_REQUEST", "send {type: chat} or {type: approval}")
        except ValidationError as invalid:
            await self.error("INVALID_REQUEST", str(invalid.errors()[0].get("msg", "invalid")))
        except ApiError as refused:
            await self.error(refused.code.upper(), refused.message)

    async def _count(self) -> None:
        await limiter_for(self.socket, self.platform.settings).hit(self.caller.owner)  # type: ignore[arg-type]

    async def _forward(self, job_id: str) -> None:
        async for event in chat.follow(self.platform, job_id, just_started=True):
            if event is not None:
                await self.send({**event, "job_id": job_id})

    def close(self) -> None:
        for task in list(self.turns):
            task.cancel()


async def serve(socket: WebSocket, platform: PlatformState) -> None:
    await socket.accept()
    caller = await _authenticate(socket, platform)
    if caller is None:
        return
    session = _Session(socket, platform, caller)
    await session.send({"type": "authenticated", "user": caller.owner})
    try:
        while True:
            try:
                message = await socket.receive_json()
            except ValueError:
                await session.error("INVALID_REQUEST", "messages are JSON objects")
                continue
            await session.handle(message)
    except WebSocketDisconnect:
        pass
    finally:
        session.close()


async def _authenticate(socket: WebSocket, platform: PlatformState) -> Caller | None:
    """The caller of the first message, or None once the socket is closed with 1008."""
    reason = "authenticate first: {type: auth, token}"
    try:
        first = await asyncio.wait_for(
            socket.receive_json(), platform.settings.assistant_ws_auth_seconds
        )
    except WebSocketDisconnect:
        return None
    except (TimeoutError, ValueError):
        first = None
    token = first.get("token") if isinstance(first, dict) and first.get("type") == "auth" else None
    if isinstance(token, str) and token:
        try:
            return await caller_for(platform.db, platform.settings, key=None, token=token)
        except ApiError as refused:
            reason = refused.message
    if socket.client_state == WebSocketState.CONNECTED:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await socket.close(POLICY_VIOLATION, reason[:120])
    return None
