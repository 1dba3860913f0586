"""The LiteLLM proxy's OpenAI-compatible chat completions on the local cloud, through the official
`openai` SDK (WIRE_APIS §8): its deterministic model calls the tool that matches the question,
then summarises the results; streamed and not; the proxy's errors."""

from __future__ import annotations

import json

import openai
import pytest

from contracts.assistant.tools import TOOLS
from contracts.assistant.turn import ChatMessage, CompletionRequest, ToolSpec
from core.settings import Settings
from localcloud.apis.litellm import MASTER_KEY
from providers import llm

TOOL_DEFS = [
    {
        "type": "function",
        "function": {"name": t.name, "description": t.description, "parameters": t.schema()},
    }
    for t in TOOLS.values()
]


@pytest.fixture
def sdk(localcloud):
    return openai.OpenAI(base_url=f"{localcloud.url}/litellm/v1", api_key=MASTER_KEY, max_retries=0)


def ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_it_calls_the_tool_that_best_matches_the_question(sdk):
    answer = sdk.chat.completions.create(
        model="gpt-4", messages=ask("Lista los jobs recientes"), tools=TOOL_DEFS
    )
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.id.startswith("call_") and call.function.name == "list_jobs"
    assert json.loads(call.function.arguments) == {}
    assert answer.usage.total_tokens > 0


def test_a_required_parameter_is_taken_from_the_question(sdk):
    answer = sdk.chat.completions.create(
        model="gpt-4", messages=ask("get job deploy-1a2b3c"), tools=TOOL_DEFS
    )
    (call,) = answer.choices[0].message.tool_calls
    assert call.function.name == "get_job"
    assert json.loads(call.function.arguments) == {"job_id": "deploy-1a2b3c"}


def test_after_the_tool_results_it_answers_with_a_summary(sdk):
    messages = [
        *ask("list services"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "list_services", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": json.dumps({"services": [1, 2]})},
    ]
    answer = sdk.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOL_DEFS)
    choice = answer.choices[0]
    assert choice.finish_reason == "stop" and not choice.message.tool_calls
    assert "list_services: 2 services" in choice.message.content


def test_a_streamed_tool_call_comes_in_the_real_chunks(sdk):
    chunks = list(
        sdk.chat.completions.create(
            model="gpt-4",
            messages=ask("get job deploy-1a2b3c"),
            tools=TOOL_DEFS,
            tool_choice="auto",
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    first = chunks[0].choices[0].delta
    assert first.role == "assistant" and first.tool_calls[0].function.name == "get_job"
    assert first.tool_calls[0].function.arguments == ""
    arguments = "".join(
        c.choices[0].delta.tool_calls[0].function.arguments
        for c in chunks[1:]
        if c.choices and c.choices[0].delta.tool_calls
    )
    assert json.loads(arguments) == {"job_id": "deploy-1a2b3c"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0


def test_the_sdks_stream_helper_assembles_the_answer(sdk):
    with sdk.chat.completions.stream(
        model="gpt-4", messages=ask("list the services"), tools=TOOL_DEFS
    ) as stream:
        final = stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls
    assert call.function.name == "list_services"
    with sdk.chat.completions.stream(model="gpt-4", messages=ask("hello there")) as stream:
        text = stream.get_final_completion().choices[0].message.content
    assert text.startswith("No tool matches")


def test_the_proxys_errors(sdk, localcloud):
    with pytest.raises(openai.BadRequestError) as unknown_model:
        sdk.chat.completions.create(model="gpt-2", messages=ask("hi"))
    assert unknown_model.value.body["param"] == "model"
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model="gpt-4", messages=[])
    stranger = openai.OpenAI(
        base_url=f"{localcloud.url}/litellm/v1", api_key="sk-unknown", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError) as refused:
        stranger.chat.completions.create(model="gpt-4", messages=ask("hi"))
    assert refused.value.body["type"] == "auth_error"


async def test_the_provider_maps_a_refusal_to_a_final_failure(localcloud):
    from temporalio.exceptions import ApplicationError

    settings = Settings(assistant_llm_base_url=f"{localcloud.url}/litellm/v1")
    request = CompletionRequest(
        model="gpt-4",
        messages=[ChatMessage(role="user", content="list jobs")],
        tools=[
            ToolSpec(name=t.name, description=t.description, parameters=t.schema())
            for t in TOOLS.values()
        ],
    )
    completion = await llm.complete(settings, request)
    assert completion.tool_calls[0].name == "list_jobs"
    with pytest.raises(ApplicationError) as refused:
        await llm.complete(settings, request.model_copy(update={"model": "gpt-2"}))
    assert refused.value.non_retryable
