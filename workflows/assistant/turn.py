"""AssistantTurn: one chat turn of a conversation. It reads the conversation and saves the user's
message, then asks the LLM (an activity per call) with the platform's tools offered, runs each
tool call it makes (an activity per call) and asks again with the results, at most
`max_tool_rounds` times, and saves the answer with its tool calls. Turns of one conversation take
turns (its subject). A turn that fails or is cancelled keeps the user's message (the user did send
it) but takes back an answer it saved: the conversation shows an answer, and its tool calls, only
of a turn that completed.

Asking for the conversation's turn and the turn's opening (reading the conversation and saving
the question, one step) are local activities, and so are giving the turn back and publishing
`job.completed` (under the `assistant-local-steps` patch): the worker runs them inside the
workflow task that reaches them, with no task-queue round trip and no workflow task of their own.
A worker lost meanwhile loses that task, which runs again on another worker and runs those steps
again: they are idempotent (the question's save is keyed by turn and seq). So is the answer's
save under the `assistant-local-answer-save` patch, whose undo is registered before the first LLM
call (see `_save`); before it, the save was a regular activity.

What happens is also kept as the turn's events (`thinking`, `tool_call`, `approval_required`,
`tool_result`, `message`, `done`, `error`; ids 1, 2, 3...), written into the turn's history as
they happen (a memo upsert per workflow task, under the `assistant-events-in-history` patch),
which the chat's SSE and WebSocket streams follow, and answered by the `assistant_turn_events`
query (how streams followed turns started before it): so a stream resumes after any restart.

A tool that changes things follows the turn's autonomy level (under the `assistant-approvals`
patch): refused under `read_only`; under `semi` the turn waits for the `assistant_approval` update
(its validator refuses an unknown approval or a caller who does not own the conversation) at most
`approval_timeout_seconds`, a silence being a rejection; run under `full`."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.assistant.names import (
        APPROVAL_UPDATE,
        APPROVALS_PATCH,
        CONVERSATION_SUBJECT,
        EVENTS_IN_HISTORY_PATCH,
        LOCAL_SAVE_PATCH,
        LOCAL_STEPS_PATCH,
        TURN_EVENTS_MEMO,
        TURN_EVENTS_QUERY,
        Operations,
        TurnSteps,
        Workflows,
    )
    from contracts.assistant.tools import TOOLS, offered
    from contracts.assistant.turn import (
        FIRST_EVENT,
        TERMINAL_EVENTS,
        ApprovalDecision,
        ApprovalOutcome,
        ChatMessage,
        Completion,
        CompletionRequest,
        History,
        HistoryRequest,
        RemoveRequest,
        Saved,
        SavedMessage,
        SaveRequest,
        ToolCall,
        ToolResult,
        ToolSpec,
        TurnCall,
        TurnEvents,
        TurnInput,
        TurnOpening,
        TurnResult,
    )
    from contracts.jobs import JobSubject

from workflows.job import TrackedJob
from workflows.saga import Saga
from workflows.steps import step
from workflows.tracking import JobTracker

SYSTEM_PROMPT = (
    "You are the ConneSkills platform's operations assistant. Use the tools to read the "
    "platform's services, jobs and clouds before answering questions about them; answer briefly, "
    "in the user's language, from what the tools returned."
)
_DATABASE = timedelta(seconds=30)
_TOOL = timedelta(minutes=1)
# Turns started before it kept an answer they saved although they failed or were cancelled after:
# replays of those register no undo of the save.
ANSWER_UNDO_PATCH = "turn-takes-its-answer-back-on-failure"
# The answer's place in its turn (the user's message is 0).
_ANSWER_SEQ = 1
# A retry of the answer's local save further away than this waits on a durable timer: each attempt
# runs within one workflow task (one that is never recorded is the undo's to take back).
_SAVE_RETRY_THRESHOLD = timedelta(milliseconds=500)


def _llm_bound() -> timedelta:
    return timedelta(minutes=3)


@workflow.defn(name=Workflows.ASSISTANT_TURN)
class AssistantTurn(TrackedJob):
    @workflow.init
    def __init__(self, inp: TurnInput) -> None:
        subject = JobSubject(kind=CONVERSATION_SUBJECT, name=inp.conversation_id)
        self.tracker = JobTracker(Operations.ASSISTANT_TURN, subject)
        self.inp = inp
        self.events: list[dict[str, Any]] = []
        # Approvals asked (id -> None while waiting, then the decision).
        self.approvals: dict[str, bool | None] = {}
        self.learned_mutating: set[str] = set()
        self.local = False
        # Whether the answer's save is a local activity too (LOCAL_SAVE_PATCH).
        self.local_save = False
        # Whether the events go into the history too (EVENTS_IN_HISTORY_PATCH), how many have,
        # and whether a write of the new ones is already due in this activation.
        self.in_history = False
        self.written = 0
        self._write_due = False

    def steps_run_locally(self) -> bool:
        """Under LOCAL_STEPS_PATCH, the turn asks for its turn on the conversation and runs the
        conversation's steps as local activities; turns recorded before replay as they ran."""
        self.local = workflow.patched(LOCAL_STEPS_PATCH)
        return self.local

    @workflow.run
    async def run(self, inp: TurnInput) -> dict[str, Any]:
        # The streams follow the turn's history (its events arrive with the workflow task that
        # emits them), instead of asking the turn: a query that lands while a workflow task runs
        # costs a workflow task of its own, and one at the turn's end a replay. The first
        # (empty) write, in the first workflow task, tells a stream to expect them there.
        self.in_history = workflow.patched(EVENTS_IN_HISTORY_PATCH)
        if self.in_history:
            workflow.upsert_memo({TURN_EVENTS_MEMO: []})
        try:
            result = await self.run_saga(lambda saga: self._converse(inp, saga))
        except BaseException as error:
            if not isinstance(error, workflow.ContinueAsNewError):
                self._emit("error", message=_failure_text(error))
            raise
        self._emit("done", conversation_id=inp.conversation_id, job_id=workflow.info().workflow_id)
        return {**result, "events": self.events}

    def _emit(self, kind: str, **fields: Any) -> None:
        self._add({"id": len(self.events) + 1, "type": kind, **fields})

    def _add(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if not self.in_history:
            return
        if event["type"] in TERMINAL_EVENTS:
            # Now: the workflow's last command (complete, fail, cancel) follows at once.
            self._write_events()
        elif not self._write_due:
            # Once for the events of this activation (those of one workflow task, mostly):
            # after what is running now, still within the activation (deterministic).
            self._write_due = True
            asyncio.get_running_loop().call_soon(self._write_events)

    def _write_events(self) -> None:
        self._write_due = False
        new = self.events[self.written :]
        if new:
            self.written = len(self.events)
            workflow.upsert_memo({TURN_EVENTS_MEMO: new})
            if new[-1]["type"] in TERMINAL_EVENTS:
                # The history keeps them; the memo of an ended turn (which every listing of
                # jobs carries) keeps none.
                workflow.upsert_memo({TURN_EVENTS_MEMO: None})

    @workflow.query(name=TURN_EVENTS_QUERY)
    def turn_events(self, after: int) -> TurnEvents:
        return TurnEvents(
            conversation_id=self.inp.conversation_id, events=self.events[max(after, 0) :]
        )

    @workflow.update(name=APPROVAL_UPDATE)
    def approve(self, decision: ApprovalDecision) -> ApprovalOutcome:
        self.approvals[decision.approval_id] = decision.approve
        return ApprovalOutcome(
            approval_id=decision.approval_id,
            status="approved" if decision.approve else "rejected",
        )

    @approve.validator
    def _check_approval(self, decision: ApprovalDecision) -> None:
        # The same answer for an approval that does not exist and one of somebody else's turn.
        if decision.approval_id not in self.approvals or decision.owner != self.inp.owner:
            raise ApplicationError(
                f"no approval {decision.approval_id} waits for you", type="NotFound"
            )
        if self.approvals[decision.approval_id] is not None:
            raise ApplicationError(
                f"approval {decision.approval_id} was already decided", type="Conflict"
            )

    async def _converse(self, inp: TurnInput, saga: Saga) -> dict[str, Any]:
        track = self.tracker
        turn_id = workflow.info().workflow_id
        # The first round's `thinking` at once, in the turn's first workflow task: a stream has
        # it before the conversation is read (events are state, not commands: replay-safe).
        self._add(dict(FIRST_EVENT))
        track.phase("reading", 10, "reading the conversation")
        request = HistoryRequest(
            conversation_id=inp.conversation_id, last=inp.history_messages, owner=inp.owner
        )
        question = [SavedMessage(seq=0, role="user", content=inp.message)]
        # The same answer as when run_saga asked for the turn (a patch is decided once a run).
        if self.steps_run_locally():
            history = await step(
                TurnSteps.OPEN_TURN,
                TurnOpening(history=request, question=self._save_request(turn_id, question)),
                History,
                start_to_close=_DATABASE,
                local=True,
            )
            _found(inp, history)
            # The answer's save is local too; its undo is registered now, before the first LLM
            # call (a no-op when nothing was saved): a cancel that arrives while the workflow task
            # running the save is open makes the server refuse that task, and the turn's replay
            # stops before the save, leaving an answer that attempt wrote. Registered here, the
            # compensation takes it back whatever step the turn stopped at.
            self.local_save = workflow.patched(LOCAL_SAVE_PATCH)
            if self.local_save:
                self._answer_undo(saga, turn_id)
        else:
            history = await step(TurnSteps.LOAD_HISTORY, request, History, start_to_close=_DATABASE)
            _found(inp, history)
            await self._save(inp, turn_id, question)
        tools = [
            ToolSpec(name=t.name, description=t.description, parameters=t.schema())
            for t in offered(inp.cloud_providers)
        ]
        # The owner's learned operations; those that change things are gated as cancel_job is.
        tools += [t for t in history.tools if t.name not in TOOLS]
        self.learned_mutating = {t.name for t in history.tools if t.mutating}
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
            if rounds > 1:
                self._emit("thinking", content="Analizando resultados...")
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
                self._emit(
                    "tool_call", tool=call.name, params=_parsed(call.arguments), call_id=call.id
                )
                result = await self._run_tool(inp, call)
                self._emit(
                    "tool_result",
                    tool=call.name,
                    call_id=call.id,
                    ok=result.ok,
                    result=_parsed(result.content),
                )
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
        self._emit("message", content=answer)
        track.phase("saving", 90, "saving the answer")
        if not self.local_save and workflow.patched(ANSWER_UNDO_PATCH):
            # Before the save: one failed or cancelled after its write is taken back too.
            self._answer_undo(saga, turn_id)
        await self._save(
            inp,
            turn_id,
            [
                SavedMessage(
                    seq=_ANSWER_SEQ,
                    role="assistant",
                    content=answer,
                    tool_calls=[call.model_dump() for call in calls] or None,
                )
            ],
            local=self.local_save,
        )
        result = TurnResult(
            conversation_id=inp.conversation_id,
            content=answer,
            tool_calls=calls,
            rounds=rounds,
            stopped_early=stopped_early,
        )
        return track.complete(result.model_dump(), f"answered after {len(calls)} tool call(s)")

    async def _run_tool(self, inp: TurnInput, call: ToolCall) -> ToolResult:
        tool = TOOLS.get(call.name)
        if tool is not None and tool.provider and tool.provider not in inp.cloud_providers:
            # Not offered to the model either: a call to it is refused without running.
            refusal = f"refused: {tool.provider} is not enabled in the assistant's configuration"
            return ToolResult(call_id=call.id, name=call.name, ok=False, content=refusal)
        mutating = call.name in self.learned_mutating if tool is None else tool.mutating
        if mutating and workflow.patched(APPROVALS_PATCH):
            refusal = await self._gate(inp, call)
            if refusal is not None:
                self.tracker.log(f"tool call {call.name} not run: {refusal}")
                return ToolResult(call_id=call.id, name=call.name, ok=False, content=refusal)
        return await step(TurnSteps.RUN_TOOL, call, ToolResult, start_to_close=_TOOL)

    async def _gate(self, inp: TurnInput, call: ToolCall) -> str | None:
        """None when the call may run; else why not, as the tool's answer for the LLM."""
        if inp.autonomy_level == "full":
            return None
        if inp.autonomy_level != "semi":
            return (
                f"refused: {call.name} changes things and the assistant's autonomy level is "
                f"{inp.autonomy_level}; do it from the platform's API or console"
            )
        approval_id = f"{workflow.info().workflow_id}.{len(self.approvals) + 1}"
        self.approvals[approval_id] = None
        self._emit(
            "approval_required",
            approval_id=approval_id,
            tool=call.name,
            params=_parsed(call.arguments),
            call_id=call.id,
            timeout_seconds=inp.approval_timeout_seconds,
        )
        self.tracker.phase("waiting_approval", 60, f"waiting for approval {approval_id}")
        try:
            await workflow.wait_condition(
                lambda: self.approvals[approval_id] is not None,
                timeout=timedelta(seconds=inp.approval_timeout_seconds),
            )
        except TimeoutError:
            self.approvals[approval_id] = False
            return (
                f"rejected: nobody approved {call.name} within "
                f"{inp.approval_timeout_seconds:g} s, so it did not run"
            )
        if not self.approvals[approval_id]:
            return f"rejected: the user did not approve {call.name}, so it did not run"
        return None

    def _answer_undo(self, saga: Saga, turn_id: str) -> None:
        """The user's message stays (the user did send it); an answer stays only with its turn."""
        taken_back = RemoveRequest(
            conversation_id=self.inp.conversation_id, turn_id=turn_id, seqs=[_ANSWER_SEQ]
        )
        saga.on_failure(
            "take the answer back",
            lambda: step(TurnSteps.REMOVE_MESSAGES, taken_back, int, start_to_close=_DATABASE),
        )

    def _save_request(self, turn_id: str, messages: list[SavedMessage]) -> SaveRequest:
        return SaveRequest(
            conversation_id=self.inp.conversation_id, turn_id=turn_id, messages=messages
        )

    async def _save(
        self, inp: TurnInput, turn_id: str, messages: list[SavedMessage], local: bool = False
    ) -> None:
        # Local only with its undo registered from the turn's start (LOCAL_SAVE_PATCH): a local
        # activity's write is recorded only with the workflow task that ran it, and a cancel
        # arriving meanwhile fails that task (the server refuses its completion); the turn then
        # replays and stops before the save (the fault harness's cancel at this step), so an undo
        # registered just before the save would never hear of that answer. Each attempt stays
        # within its workflow task (a retry further than _SAVE_RETRY_THRESHOLD waits on a timer).
        saved = await step(
            TurnSteps.SAVE_MESSAGES,
            self._save_request(turn_id, messages),
            Saved,
            start_to_close=_DATABASE,
            local=local,
            retry_threshold=_SAVE_RETRY_THRESHOLD if local else None,
        )
        if not saved.saved:
            raise ApplicationError(
                f"conversation {inp.conversation_id} was deleted during the turn",
                type="ConversationGone",
                non_retryable=True,
            )


def _found(inp: TurnInput, history: History) -> None:
    if not history.found:
        raise ApplicationError(
            f"conversation {inp.conversation_id} no longer exists",
            type="ConversationGone",
            non_retryable=True,
        )


def _parsed(text: str | None) -> Any:
    """A tool's arguments or answer as JSON when it is JSON (the seed's `params`/`result`), else
    the text as it is."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _failure_text(error: BaseException) -> str:
    cause = error
    while cause.__cause__ is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    return str(cause)[:500] or type(error).__name__
