"""The assistant's LLM: the official `openai` SDK pointed at the LiteLLM proxy's OpenAI-compatible
API (WIRE_APIS §8), which routes the model to its provider. Built from settings; maps the SDK's
errors to final or retryable failures. The key stays here, never in a workflow's payloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
from openai import AsyncOpenAI
from temporalio.exceptions import ApplicationError

from contracts.assistant.turn import Completion, CompletionRequest, ToolCall
from core.settings import Settings
from providers.tls import client_context


def llm_client(settings: Settings) -> AsyncOpenAI:
    # No SDK retries: the activity's retry policy is the one place retries are decided.
    return AsyncOpenAI(
        base_url=settings.resolved_assistant_llm_base_url,
        api_key=settings.assistant_llm_api_key.get_secret_value(),
        timeout=settings.assistant_llm_timeout_seconds,
        max_retries=0,
        # The SDK's own client settings, with the process's one TLS context (providers/tls.py).
        http_client=openai.DefaultAsyncHttpxClient(verify=client_context()),
    )


def _wire_messages(request: CompletionRequest) -> list[dict[str, Any]]:
    messages = []
    for message in request.messages:
        wire: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.tool_calls:
            wire["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in message.tool_calls
            ]
        if message.tool_call_id:
            wire["tool_call_id"] = message.tool_call_id
        messages.append(wire)
    return messages


@contextmanager
def as_temporal_failures() -> Iterator[None]:
    """A refusal (4xx but 408/409/429) is final; a timeout, 429 or 5xx is retried."""
    try:
        yield
    except openai.APIStatusError as error:
        status = error.status_code
        message = f"the LLM API answered {status}: {_message(error)}"
        if 400 <= status < 500 and status not in (408, 409, 429):
            raise ApplicationError(message, type="LlmRefused", non_retryable=True) from None
        raise ApplicationError(message, type="Unavailable") from None
    except (openai.APIConnectionError, openai.APITimeoutError) as error:
        raise ApplicationError(
            f"the LLM API is unreachable: {type(error).__name__}", type="Unavailable"
        ) from None


def _message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
    return str(error.message)[:300]


async def complete(settings: Settings, request: CompletionRequest) -> Completion:
    """One chat completion (not streamed), with the tools offered and `tool_choice: auto`."""
    tools = [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in request.tools
    ]
    async with llm_client(settings) as client:
        with as_temporal_failures():
            answer = await client.chat.completions.create(
                model=request.model,
                messages=_wire_messages(request),  # type: ignore[arg-type]
                **({"tools": tools, "tool_choice": "auto"} if tools else {}),  # type: ignore[arg-type]
            )
    choice = answer.choices[0]
    calls = [
        ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments or "{}")
        for call in choice.message.tool_calls or []
        if call.type == "function"
    ]
    return Completion(
        content=choice.message.content, tool_calls=calls, finish_reason=choice.finish_reason
    )


def arguments_of(call: ToolCall) -> dict[str, Any]:
    """The call's arguments as an object; ValueError when the LLM wrote something else."""
    value = json.loads(call.arguments or "{}")
    if not isinstance(value, dict):
        raise ValueError("tool arguments must be a JSON object")
    return value
