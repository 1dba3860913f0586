"""AssistantTurn: one chat turn of a conversation. It saves the user's message, then asks the LLM
(an activity per call) with the platform's tools offered, runs each tool call it makes (an
activity per call) and asks again with the results, at most `max_tool_rounds` times, and saves
the answer with its tool calls. Turns of one conversation take turns (its subject)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.assistant.names import (
        CONVERSATION_SUBJECT,
        Operations,
        TurnSteps,
        Workflows,
    )
    from contracts.assistant.tools import TOOLS
    from contracts.assistant.turn import (
        ChatMessage,
        Completion,
        CompletionRequest,
        History,
        HistoryRequest,
        Saved,
        SavedMessage,
        SaveRequest,
        ToolResult,
        ToolSpec,
        TurnCall,
        TurnInput,
        TurnResult,
    )
    from contracts.jobs import JobSubject

from workflows.job import TrackedJob
from workflows.steps import step
from workflows.tracking import JobTracker

SYSTEM_PROMPT = (
    "You are the ConneSkills platform's operations assistant. Use the tools to read the "
    "platform's services and jobs before answering questions about them; answer briefly, in the "
    "user's language, from what the tools returned."
)
_DATABASE = timedelta(seconds=30)
_TOOL = timedelta(minutes=1)


def _llm_bound() -> timedelta:
    return timedelta(minutes=3)


@workflow.defn(name=Workflows.ASSISTANT_TURN)
class AssistantTurn(TrackedJob):
    @workflow.init
    def __init__(self, inp: TurnInput) -> None:
        subject = JobSubject(kind=CONVERSATION_SUBJECT, name=inp.conversation_id)
        self.tracker = JobTracker(Operations.ASSISTANT_TURN, subject)

    @workflow.run
    async def run(self, inp: TurnInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._converse(inp))

    async def _converse(self, inp: TurnInput) -> dict[str, Any]:
        track = self.tracker
        turn_id = workflow.info().workflow_id
        track.phase("reading", 10, "reading the conversation")
        history = await step(
            TurnSteps.LOAD_HISTORY,
            HistoryRequest(conversation_id=inp.conversation_id, last=inp.history_messages),
            History,
            start_to_close=_DATABASE,
        )
        if not history.found:
            raise ApplicationError(
                f"conversation {inp.conversation_id} no longer exists",
                type="ConversationGone",
                non_retryable=True,
            )
        await self._save(inp, turn_id, [SavedMessage(seq=0, role="user", content=inp.message)])
        tools = [
            ToolSpec(name=t.name, description=t.description, parameters=t.schema())
            for t in TOOLS.values()
        ]
        messages = [
            ChatMessage(role="system", content=SYSTEM_PROMPT),
            *history.messages,
            ChatMessage(role="user", content=inp.message),
        ]
        calls: list[TurnCall] = []
        answer: str | None = None
        rounds = 0
        while rounds <= inp.max_tool_rounds:
            rounds += 1
            track.phase("thinking", min(20 + 10 * rounds, 80), f"asking the LLM (round {rounds})")
            completion = await step(
                TurnSteps.COMPLETE,
                CompletionRequest(model=inp.model, messages=messages, tools=tools),
                Completion,
                start_to_close=_llm_bound(),
            )
            if not completion.tool_calls or rounds > inp.max_tool_rounds:
                answer = completion.content
                break
            messages.append(
                ChatMessage(
                    role="assistant",
                    content=completion.content,
                    tool_calls=completion.tool_calls,
                )
            )
            for call in completion.tool_calls:
                track.log(f"tool call: {call.name}")
                result = await step(TurnSteps.RUN_TOOL, call, ToolResult, start_to_close=_TOOL)
                calls.append(
                    TurnCall(
                        id=call.id,
                        name=call.name,
                        arguments=call.arguments,
                        ok=result.ok,
                        result=result.content,
                    )
                )
                messages.append(
                    ChatMessage(role="tool", content=result.content, tool_call_id=call.id)
                )
        stopped_early = answer is None and rounds > inp.max_tool_rounds
        if not answer:
            answer = (
                f"I stopped after {inp.max_tool_rounds} rounds of tool calls without a final "
                "answer; ask again more precisely."
                if stopped_early
                else "(no answer)"
            )
        track.phase("saving", 90, "saving the answer")
        await self._save(
            inp,
            turn_id,
            [
                SavedMessage(
                    seq=1,
                    role="assistant",
                    content=answer,
                    tool_calls=[call.model_dump() for call in calls] or None,
                )
            ],
        )
        result = TurnResult(
            conversation_id=inp.conversation_id,
            content=answer,
            tool_calls=calls,
            rounds=rounds,
            stopped_early=stopped_early,
        )
        return track.complete(result.model_dump(), f"answered after {len(calls)} tool call(s)")

    async def _save(self, inp: TurnInput, turn_id: str, messages: list[SavedMessage]) -> None:
        saved = await step(
            TurnSteps.SAVE_MESSAGES,
            SaveRequest(conversation_id=inp.conversation_id, turn_id=turn_id, messages=messages),
            Saved,
            start_to_close=_DATABASE,
        )
        if not saved.saved:
            raise ApplicationError(
                f"conversation {inp.conversation_id} was deleted during the turn",
                type="ConversationGone",
                non_retryable=True,
            )
