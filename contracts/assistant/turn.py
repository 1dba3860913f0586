"""What the AssistantTurn workflow and its activities pass each other: the turn's input, the chat
messages sent to the LLM, its reply, tool calls and their results. Bounded so a turn's payloads
stay far under Temporal's limits; secrets never travel here (the LLM key is the worker's)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# A message's text at most (the API refuses longer user messages; longer results are cut).
MAX_CONTENT = 16_000
# A tool result kept for the LLM and the conversation at most (a listing is cut, saying so).
MAX_TOOL_RESULT = 8_000


# `read_only` refuses the tools that change things, `semi` runs them once the user approves (an
# approval that does not come in time is a rejection), `full` runs them.
AutonomyLevel = Literal["read_only", "semi", "full"]


class TurnInput(BaseModel):
    """One turn: the user's message in their conversation, the model it runs with, and how far it
    may act (who may approve its mutating tool calls, the autonomy level, how long to wait)."""

    conversation_id: str = Field(max_length=40)
    message: str = Field(min_length=1, max_length=MAX_CONTENT)
    model: str = Field(max_length=100)
    max_tool_rounds: int = Field(default=5, ge=1, le=20)
    history_messages: int = Field(default=40, ge=0, le=200)
    # The conversation's owner ("user:<name>" or "key:<key id>"): the only one who may approve.
    owner: str | None = Field(default=None, max_length=200)
    autonomy_level: AutonomyLevel = "read_only"
    approval_timeout_seconds: float = Field(default=300.0, gt=0, le=86_400)
    # The cloud providers enabled in the configuration when the turn started: their tools are
    # offered (and may run); the others' are not.
    cloud_providers: list[str] = Field(default_factory=list, max_length=8)


class ToolCall(BaseModel):
    id: str = Field(max_length=100)
    name: str = Field(max_length=64)
    # The JSON text of the arguments, as the LLM wrote it.
    arguments: str = Field(default="{}", max_length=MAX_CONTENT)


class ChatMessage(BaseModel):
    """A message in the OpenAI chat format (the subset the assistant uses)."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None


class ToolSpec(BaseModel):
    """A tool as the LLM sees it: `parameters` is its parameter model's JSON schema. `mutating`
    (not sent to the LLM): a learned operation that changes things, gated as `cancel_job` is."""

    name: str
    description: str
    parameters: dict[str, Any]
    mutating: bool = False


class HistoryRequest(BaseModel):
    conversation_id: str
    last: int = Field(ge=0, le=200)
    # Whose learned APIs the turn offers as tools (None: none).
    owner: str | None = None


class History(BaseModel):
    found: bool
    messages: list[ChatMessage] = Field(default_factory=list)
    # The owner's learned operations, offered besides the platform's tools.
    tools: list[ToolSpec] = Field(default_factory=list)


class CompletionRequest(BaseModel):
    model: str
    messages: list[ChatMessage]
    tools: list[ToolSpec] = Field(default_factory=list)


class Completion(BaseModel):
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: str | None = None


class ToolRunInput(BaseModel):
    """One tool run directly (`POST /api/tools/execute`): the call, already allowed by the
    autonomy level and the enabled providers, and who asked."""

    call: ToolCall
    owner: str = Field(max_length=200)


class ToolResult(BaseModel):
    call_id: str
    name: str
    ok: bool
    # JSON text (or the error's words) for the LLM, cut at MAX_TOOL_RESULT.
    content: str


class SavedMessage(BaseModel):
    """A message a turn writes; `seq` is its place in the turn (idempotent writes)."""

    seq: int
    role: Literal["user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class SaveRequest(BaseModel):
    conversation_id: str
    turn_id: str
    messages: list[SavedMessage]


class Saved(BaseModel):
    saved: bool


class TurnOpening(BaseModel):
    """What a turn reads and writes first, in one transaction: the conversation's latest messages
    (the turn's own left out, so a retried opening reads what the first attempt read) and the
    user's message saved (keyed by turn and seq, so never twice)."""

    history: HistoryRequest
    question: SaveRequest


class RemoveRequest(BaseModel):
    """A turn's messages to take back, by their place in the turn (`seq`)."""

    conversation_id: str
    turn_id: str
    seqs: list[int]


class TurnCall(BaseModel):
    """A tool call of the turn, with what it answered."""

    id: str
    name: str
    arguments: str
    ok: bool
    result: str


class TurnResult(BaseModel):
    conversation_id: str
    content: str
    tool_calls: list[TurnCall] = Field(default_factory=list)
    rounds: int = 0
    # True when the LLM still wanted tools after max_tool_rounds: the answer says it stopped.
    stopped_early: bool = False
    # Every event of the turn, `done` included: a stream reads a turn that ended from its result
    # (the server has it) instead of a query, which a worker answers only by replaying the turn.
    events: list[dict[str, Any]] = Field(default_factory=list)


# The event types a turn emits (seed 002's stream), in the order they may come.
TurnEventType = Literal[
    "thinking", "tool_call", "approval_required", "tool_result", "message", "done", "error"
]
TERMINAL_EVENTS = frozenset({"done", "error"})
# Every turn's first event, emitted by the workflow in its first workflow task. A stream that has
# just started the turn sends it at once, as soon as the job exists (the start is durable), instead
# of waiting for a worker to run that task: the same id and content, so a client that reconnects
# with `Last-Event-ID: 1` continues without a duplicate or a gap.
FIRST_EVENT: dict[str, Any] = {"id": 1, "type": "thinking", "content": "Analizando request..."}


class TurnEvents(BaseModel):
    """What the events query answers: the turn's conversation and its events past an id. Each
    event is `{"id": n, "type": ..., ...}` with ids 1, 2, 3... in the turn; the last one of a turn
    that ended is `done` or `error`."""

    conversation_id: str
    events: list[dict[str, Any]] = Field(default_factory=list)


class ApprovalDecision(BaseModel):
    """The user's answer to an `approval_required` event, with who gives it."""

    approval_id: str = Field(max_length=250)
    approve: bool
    owner: str = Field(max_length=200)


class ApprovalOutcome(BaseModel):
    approval_id: str
    status: Literal["approved", "rejected"]
