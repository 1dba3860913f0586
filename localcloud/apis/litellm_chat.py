"""The LiteLLM proxy's OpenAI-compatible `POST /v1/chat/completions` (WIRE_APIS §8), under
`/litellm`, streamed (SSE `chat.completion.chunk`s ending in `data: [DONE]`) or not, with the
proxy's auth and errors (see litellm.py).

The "model" is deterministic, so tests and `make run` get the same answers every time:

- When the messages after the last user message hold tool results, it answers (`finish_reason:
  "stop"`) with one line per result: the tool's name and what it found (the number of items of
  the first list in a JSON object answer, else the start of the text).
- Otherwise it scores each offered tool against the last user message (words of 3+ letters, a
  plural `s` dropped, English and Spanish alike, found in the tool's name or description; a word
  in the name counts double) and calls the best (`finish_reason: "tool_calls"`), filling each
  required string parameter with the last word of the message its `pattern` accepts (ids come
  last: "get job deploy-1a2b") (a tool
  whose required parameter finds none is not chosen). Ties go to the tool offered first.
- With no tool matching it answers with text saying so.
- A message that asks for several things in turn ("… then …", "… luego …") calls one tool per
  part, in order, each after the previous one's result, then answers from all the results (a
  part no tool matches ends the calls there).

A model outside `MODELS` is refused with 400, as the proxy refuses a model it does not route.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from localcloud.apis.litellm import ProxyError, _body, _caller, _doc
from localcloud.state import state_of

# The models this proxy routes (the platform's `assistant_llm_models` default).
MODELS = ("gpt-4", "gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet")
# Spanish words a user asks with, mapped onto the tools' English words.
_SYNONYMS = {
    "servicio": "service",
    "servicios": "service",
    "trabajo": "job",
    "trabajos": "job",
    "tarea": "job",
    "tareas": "job",
    "lista": "list",
    "listar": "list",
    "muestra": "list",
    "obten": "get",
    "dame": "get",
    "instancia": "instance",
    "instancias": "instance",
    "región": "region",
    "regiones": "region",
    "cliente": "customer",
    "clientes": "customer",
    "secreto": "secret",
    "secretos": "secret",
}
_STOP = {"the", "and", "for", "with", "their", "its", "one", "del", "las", "los", "por", "que"}

router = APIRouter(prefix="/litellm", tags=["litellm"])


def _words(text: str) -> list[str]:
    words = []
    for word in re.findall(r"[a-záéíóúñ]{3,}", text.lower()):
        word = _SYNONYMS.get(word, word)
        if word.endswith("s") and len(word) > 3:
            word = word[:-1]
        if word not in _STOP:
            words.append(word)
    return words


def _arguments(tool: dict[str, Any], message: str) -> dict[str, Any] | None:
    parameters = tool.get("parameters") or {}
    properties = parameters.get("properties") or {}
    arguments: dict[str, Any] = {}
    for name in parameters.get("required") or []:
        pattern = (properties.get(name) or {}).get("pattern")
        candidates = re.findall(r"[^\s,;'\"()¿?¡!]+", message)
        matching = [w for w in candidates if pattern and re.fullmatch(pattern, w)]
        found = matching[-1] if matching else None
        if found is None:
            return None
        arguments[name] = found
    return arguments


def _choose(tools: list[dict[str, Any]], message: str) -> tuple[str, dict[str, Any]] | None:
    asked = set(_words(message))
    best: tuple[int, str, dict[str, Any]] | None = None
    for entry in tools:
        tool = entry.get("function") or {}
        name = str(tool.get("name", ""))
        in_name = set(_words(name.replace("_", " ")))
        in_description = set(_words(str(tool.get("description", ""))))
        score = 2 * len(asked & in_name) + len(asked & in_description)
        if score == 0 or (best is not None and score <= best[0]):
            continue
        arguments = _arguments(tool, message)
        if arguments is not None:
            best = (score, name, arguments)
    return (best[1], best[2]) if best else None


def _summary(content: str) -> str:
    try:
        value = json.loads(content)
    except ValueError:
        return content[:200]
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, list):
                return f"{len(item)} {key}"
        return ", ".join(f"{k}={v}" for k, v in list(value.items())[:4] if not isinstance(v, dict))
    if isinstance(value, list):
        return f"{len(value)} item(s)"
    return str(value)[:200]


# Where a message asks for one thing after another: each part is a tool call of its own.
_THEN = re.compile(r"\s+(?:then|luego|y luego|and then)\s+", re.IGNORECASE)


def _reply(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
    """The assistant message: `{"content": ...}` or `{"tool_call": (name, arguments)}`."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    message = str(messages[last_user].get("content") or "") if last_user >= 0 else ""
    parts = [part for part in _THEN.split(message) if part.strip()] or [message]
    results = [m for m in messages[last_user + 1 :] if m.get("role") == "tool"]
    if len(results) < len(parts):
        chosen = _choose(tools, parts[len(results)])
        if chosen is not None:
            return {"tool_call": chosen}
        if not results:
            return {"content": f"No tool matches this request: {message[:200]}"}
    names = {}
    for entry in messages[last_user + 1 :]:
        for call in entry.get("tool_calls") or []:
            names[call.get("id")] = (call.get("function") or {}).get("name", "tool")
    lines = [
        f"{names.get(m.get('tool_call_id'), 'tool')}: {_summary(str(m.get('content') or ''))}"
        for m in results
    ]
    return {"content": "Here is what the tools found:\n" + "\n".join(lines)}


def _validate(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ProxyError(400, "model is a required param", param="model")
    if model not in MODELS:
        raise ProxyError(
            400,
            f"Invalid model name passed in model={model}. Call `/v1/models` to view available "
            "models for your key.",
            param="model",
        )
    messages = body.get("messages")
    if (
        not isinstance(messages, list)
        or not messages
        or not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages)
    ):
        raise ProxyError(400, "messages must be a non-empty list of messages", param="messages")
    tools = body.get("tools") or []
    if not isinstance(tools, list) or not all(
        isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("function"), dict)
        for t in tools
    ):
        raise ProxyError(400, "tools must be a list of function tools", param="tools")
    return model, messages, tools


def _usage(messages: list[dict[str, Any]], reply: dict[str, Any]) -> dict[str, int]:
    prompt = sum(len(str(m.get("content") or "").split()) for m in messages)
    completion = len(json.dumps(reply).split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _message(reply: dict[str, Any], call_id: str) -> tuple[dict[str, Any], str]:
    if "tool_call" in reply:
        name, arguments = reply["tool_call"]
        call = {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    return {"role": "assistant", "content": reply["content"]}, "stop"


def _chunks(
    head: dict[str, Any], reply: dict[str, Any], call_id: str, usage: dict[str, int] | None
) -> Iterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        body = {**head, "object": "chat.completion.chunk", "choices": [choice]}
        return f"data: {json.dumps(body)}\n\n".encode()

    if "tool_call" in reply:
        name, arguments = reply["tool_call"]
        first = {"index": 0, "id": call_id, "type": "function"}
        first["function"] = {"name": name, "arguments": ""}
        yield chunk({"role": "assistant", "content": None, "tool_calls": [first]})
        text = json.dumps(arguments)
        for start in range(0, len(text), 8):
            fragment = {"index": 0, "function": {"arguments": text[start : start + 8]}}
            yield chunk({"tool_calls": [fragment]})
        yield chunk({}, "tool_calls")
    else:
        yield chunk({"role": "assistant", "content": ""})
        words = reply["content"].split(" ")
        for i, word in enumerate(words):
            yield chunk({"content": word if i == 0 else " " + word})
        yield chunk({}, "stop")
    if usage is not None:
        body = {**head, "object": "chat.completion.chunk", "choices": [], "usage": usage}
        yield f"data: {json.dumps(body)}\n\n".encode()
    yield b"data: [DONE]\n\n"


@router.post("/v1/chat/completions")
@router.post("/chat/completions")
async def chat_completions(request: Request) -> Response:
    state = state_of(request)
    try:
        body = await _body(request)
        with state.lock:
            _caller(request, _doc(state))
        model, messages, tools = _validate(body)
    except ProxyError as error:
        return error.response
    reply = _reply(messages, tools)
    call_id = "call_" + secrets.token_hex(12)
    head = {"id": "chatcmpl-" + secrets.token_hex(12), "created": int(time.time()), "model": model}
    usage = _usage(messages, reply)
    if body.get("stream") is True:
        options = body.get("stream_options") or {}
        wanted = usage if isinstance(options, dict) and options.get("include_usage") else None
        return StreamingResponse(
            _chunks(head, reply, call_id, wanted), media_type="text/event-stream"
        )
    message, finish = _message(reply, call_id)
    choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
    answer = {**head, "object": "chat.completion", "choices": [choice], "usage": usage}
    return JSONResponse(answer)
