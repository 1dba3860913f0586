"""A chat turn: checks the conversation is the caller's, starts its AssistantTurn job (on the
conversation as subject, so turns of one conversation take turns) and waits for it a while."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio.client import WorkflowFailureError

from api.deps import PlatformState
from api.errors import ApiError
from api.logic.assistant import config as config_logic
from api.logic.assistant import conversations
from api.logic.assistant.auth import Caller
from api.schemas.assistant.chat import ChatRequest, ChatResponse
from api.schemas.assistant.conversations import MessageView
from contracts.assistant.names import CONVERSATION_SUBJECT, Operations, Workflows
from contracts.assistant.turn import TurnInput, TurnResult
from contracts.jobs import JobSubject


async def chat(platform: PlatformState, caller: Caller, body: ChatRequest) -> ChatResponse:
    settings = platform.settings
    await conversations.ensure_owned(platform.db, caller.owner, body.conversation_id)
    config = await config_logic.current(platform.db)
    turn = TurnInput(
        conversation_id=body.conversation_id,
        message=body.message,
        model=config.llm.model,
        max_tool_rounds=settings.assistant_max_tool_rounds,
        history_messages=settings.assistant_history_messages,
    )
    job = await platform.jobs.start(
        Workflows.ASSISTANT_TURN,
        turn,
        operation=Operations.ASSISTANT_TURN,
        subject=JobSubject(kind=CONVERSATION_SUBJECT, name=body.conversation_id),
        caller=caller.principal,
        idempotency_key=None,
        body=None,
    )
    handle = platform.temporal.get_workflow_handle(job.job_id)
    try:
        raw = await asyncio.wait_for(handle.result(), settings.assistant_turn_wait_seconds)
    except TimeoutError:
        return ChatResponse(
            conversation_id=body.conversation_id, job_id=job.job_id, status="running"
        )
    except WorkflowFailureError as error:
        raise ApiError(
            502,
            f"the assistant turn failed: {error.cause}",
            details={"job_id": job.job_id},
        ) from None
    result = TurnResult.model_validate(raw)
    return ChatResponse(
        conversation_id=body.conversation_id,
        job_id=job.job_id,
        status="completed",
        message=MessageView(
            role="assistant",
            content=result.content,
            timestamp=datetime.now(UTC),
            tool_calls=[
                conversations.tool_call_view(call.model_dump()) for call in result.tool_calls
            ]
            or None,
        ),
    )
