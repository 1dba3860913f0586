"""The client's own logic, with no platform: retries after Retry-After, its error type, the
agent SDK's stream resumed after a drop, and the sync clients generated from the async ones."""

from __future__ import annotations

import email.utils
import json
import re
import time
from pathlib import Path

import httpx
import pytest

from conneskills.client import (
    AgentClient,
    Client,
    ConneSkillsError,
    RetryPolicy,
    _agent_async,
    _async,
    _sync,
    _unasync,
    models,
)

JOB = {
    "job_id": "deploy-0123456789ab",
    "status": "running",
    "logs_url": "/api/v1/jobs/deploy-0123456789ab/logs",
    "temporal_ui_url": "http://ui",
}


def _client(answers: list[httpx.Response], seen: list[httpx.Request], **kwargs) -> Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    return Client("http://api.test", "k", transport=httpx.MockTransport(handler), **kwargs)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(_sync.time, "sleep", waited.append)
    return waited


def test_429_and_503_are_retried_after_their_retry_after(sleeps):
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    answers = [
        httpx.Response(429, headers={"Retry-After": "2"}, json={"error": {"code": "x", "message": "slow"}}),
        httpx.Response(503, headers={"Retry-After": later}),
        httpx.Response(200, json=JOB),
    ]  # fmt: skip
    seen: list[httpx.Request] = []
    job = _client(answers, seen).jobs.get(JOB["job_id"])
    assert job.job_id == JOB["job_id"] and len(seen) == 3
    assert sleeps[0] == 2.0
    assert 25 < sleeps[1] <= 30  # an HTTP date: the time until then
    assert seen[0].headers["X-API-Key"] == "k"


def test_retries_stop_after_the_policy_s_attempts_with_the_api_s_error(sleeps):
    busy = {"error": {"code": "rate_limited", "message": "too many requests", "details": {"a": 1}}}
    answers = [httpx.Response(429, headers={"Retry-After": "1"}, json=busy) for _ in range(3)]
    with pytest.raises(ConneSkillsError) as caught:
        _client(answers, [], retry=RetryPolicy(attempts=2)).jobs.get("x")
    assert (caught.value.status_code, caught.value.code) == (429, "rate_limited")
    assert caught.value.message == "too many requests" and caught.value.details == {"a": 1}
    assert sleeps == [1.0, 1.0]


def test_a_retry_after_beyond_the_cap_waits_the_cap(sleeps):
    answers = [httpx.Response(503, headers={"Retry-After": "3600"}), httpx.Response(200, json=JOB)]
    _client(answers, [], retry=RetryPolicy(max_wait=5)).jobs.get("x")
    assert sleeps == [5.0]


def test_a_503_on_a_job_start_is_retried_with_the_same_idempotency_key(sleeps):
    started = dict(JOB, status="queued", operation="deploy", created_at="2026-01-01T00:00:00Z",
                   job_url="/j", logs_url="/l")  # fmt: skip
    answers = [httpx.Response(503, headers={"Retry-After": "0"}), httpx.Response(202, json=started)]
    seen: list[httpx.Request] = []
    _client(answers, seen).services.deploy({"service_name": "a", "image": "i"})
    keys = {request.headers["Idempotency-Key"] for request in seen}
    assert len(seen) == 2 and len(keys) == 1


def test_a_503_on_a_post_without_idempotency_key_is_not_retried(sleeps):
    answers = [httpx.Response(503, json={"error": {"code": "unavailable", "message": "down"}})]
    with pytest.raises(ConneSkillsError) as caught:
        _client(answers, []).secrets.create({"scope": "GLOBAL", "key": "k", "value": "v"})
    assert caught.value.code == "unavailable" and sleeps == []


def test_an_answer_without_the_envelope_still_raises_a_clear_error(sleeps):
    answers = [httpx.Response(502, text="Bad Gateway from the proxy")]
    with pytest.raises(ConneSkillsError) as caught:
        _client(answers, []).jobs.get("x")
    assert caught.value.code == "http_502" and "proxy" in caught.value.message


@pytest.mark.parametrize("target", sorted(_unasync.GENERATED))
def test_the_sync_client_is_generated_from_the_async_one(target):
    """Edit `_async.py` (or `_agent_async.py`), then `python -m conneskills.client._unasync`."""
    assert _unasync.generate(target) == (_unasync.HERE / target).read_text()


def test_every_model_the_client_names_is_one_of_the_api_s_own():
    """The client's types are `api/schemas` classes named by reference (imported when first
    used): each reference resolves, so a renamed API model fails here, not in a user's call."""
    refs: set[str] = set()
    for module in (_async, _agent_async):
        refs |= _model_refs(module)
    assert len(refs) > 40
    for ref in refs:
        resolved = models.resolve(ref)
        # A parametrized generic (`Page[AccountResponse]`) is made where it was first used.
        origin = getattr(resolved, "__pydantic_generic_metadata__", {}).get("origin") or resolved
        assert origin.__module__.startswith("api.schemas"), ref


def _model_refs(module) -> set[str]:
    source = Path(module.__file__).read_text()
    modules = {
        name: getattr(module, name) for name in re.findall(r"^([A-Z]+) = \"api", source, re.M)
    }
    refs = {f"{modules[m]}{sub}:{name}" for m, sub, name in re.findall(r"\{([A-Z]+)\}((?:\.\w+)?):(\w+(?:\[\w+\])?)", source)}  # fmt: skip
    refs |= {f"{m}:{name}" for m, name in re.findall(r"\"(?:list\[)?(api\.schemas[\w.]+):(\w+)", source)}  # fmt: skip
    return refs


def _sse(*events: dict) -> bytes:
    return b"".join(f"id: {e['id']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


def test_a_chat_stream_dropped_mid_turn_resumes_after_the_last_event():
    """The turn goes on on the platform: the SDK asks for its events after the last one seen."""
    first = [{"id": 1, "type": "thinking"}, {"id": 2, "type": "tool_call", "tool": "list_jobs"}]
    rest = [{"id": 3, "type": "message", "content": "hi"}, {"id": 4, "type": "done"}]
    seen: list[httpx.Request] = []

    def broken():
        yield b"retry: 2000\n\n" + _sse(*first) + b": keep-alive\n\n"
        raise httpx.RemoteProtocolError("peer closed the connection")

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(200, headers={"X-Job-ID": "assistant_turn-1"}, content=broken())
        return httpx.Response(200, content=_sse(*rest))

    client = AgentClient("k", "http://api.test", transport=httpx.MockTransport(handler))
    events = list(client.chat.stream("conv_1", "Lista los jobs"))

    assert [(e.id, e.type) for e in events] == [(1, "thinking"), (2, "tool_call"), (3, "message"), (4, "done")]  # fmt: skip
    assert events[1].data["tool"] == "list_jobs" and events[-1].final
    assert json.loads(seen[0].content) == {"conversation_id": "conv_1", "message": "Lista los jobs", "stream": True}  # fmt: skip
    assert seen[1].url.path == "/api/chat/turns/assistant_turn-1/events"
    assert seen[1].headers["Last-Event-ID"] == "2" and seen[1].headers["X-API-Key"] == "k"


def test_tools_execute_sends_the_seed_s_body_shape():
    """`POST /api/tools/execute` is the seed's, not yet served by the platform: its body shape."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"result": []})

    client = AgentClient(token="t", transport=httpx.MockTransport(handler))
    assert client.tools.execute("list_ec2_instances", region="us-east-1") == {"result": []}
    assert seen[0].url.path == "/api/tools/execute"
    assert json.loads(seen[0].content) == {
        "tool": "list_ec2_instances",
        "parameters": {"region": "us-east-1"},
    }
    assert seen[0].headers["Authorization"] == "Bearer t"
