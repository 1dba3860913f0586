"""The gateway against seed 004's contract: JSON bodies only (415 as the API), 200 on success, and
the seed's environment variable names (`API_GATEWAY_PORT`, `ORCHESTRATOR_URL`, `CORS_ORIGINS`,
`LOG_LEVEL`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from core.settings import Settings
from providers.tls import client_context
from tests.helpers.gateway import Recorder, gateway_for, json_answer, wait_until_serving
from tests.helpers.platform import ROOT, free_port
from tests.helpers.runners import Served

RUNNER = {"scope": "repo", "scope_name": "myorg/myrepo"}


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", json.dumps(RUNNER)),
        ("application/x-www-form-urlencoded", "scope=repo&scope_name=myorg%2Fmyrepo"),
        ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="scope"'),
        (None, json.dumps(RUNNER)),
    ],
)
async def test_a_body_that_is_not_json_is_refused_with_415_and_not_forwarded(
    settings, content_type, content
):
    recorder = Recorder(lambda request, n: json_answer(202, {"runners": []}))
    headers = {"Content-Type": content_type} if content_type else {}
    with Served(recorder.app) as upstream, gateway_for(settings, upstream.url) as served:
        # Raw content: httpx adds no Content-Type of its own.
        answer = httpx.post(
            f"{served.url}/api/v1/runners",
            content=content,
            headers=headers,
            verify=client_context(),
        )
    assert answer.status_code == 415, answer.text
    body = answer.json()
    assert body["status"] == "error" and "JSON" in body["message"]
    assert recorder.requests == []


async def test_a_json_media_type_with_parameters_is_accepted(settings):
    recorder = Recorder(lambda request, n: json_answer(202, {"runners": []}))
    with Served(recorder.app) as upstream, gateway_for(settings, upstream.url) as served:
        answer = httpx.post(
            f"{served.url}/api/v1/runners",
            content=json.dumps(RUNNER),
            headers={"Content-Type": "application/json; charset=utf-8"},
            verify=client_context(),
        )
    assert answer.status_code == 200, answer.text
    assert len(recorder.requests) == 1


async def test_successes_answer_the_seeds_200_even_when_the_platform_says_202(settings):
    created = [{"runner_id": "runner-a", "status": "creating", "message": "Runner en creación"}]

    async def accepted(request, n):
        if request.method == "DELETE":
            return await json_answer(202, {"runner_id": "runner-a", "destroyed": False})
        return await json_answer(202, {"runners": created})

    recorder = Recorder(accepted)
    with Served(recorder.app) as upstream, gateway_for(settings, upstream.url) as served:
        create = httpx.post(f"{served.url}/api/v1/runners", json=RUNNER, verify=client_context())
        destroy = httpx.delete(f"{served.url}/api/v1/runners/runner-a", verify=client_context())
    assert create.status_code == 200, create.text
    assert create.json()["data"] == created
    assert create.json()["message"] == "Creados 1 runners exitosamente"
    assert destroy.status_code == 200, destroy.text
    assert destroy.json()["message"] == "Runner runner-a en destrucción"


def _seed_environment(**seed_names: str) -> dict[str, str]:
    """The test process's environment without any platform gateway setting, plus the seed's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNESKILLS_GATEWAY_")}
    return {**env, **seed_names}


async def test_the_seeds_variable_names_configure_the_gateway():
    recorder = Recorder(lambda request, n: json_answer(200, []))
    port = free_port()
    with Served(recorder.app) as upstream:
        env = _seed_environment(
            API_GATEWAY_PORT=str(port),
            ORCHESTRATOR_URL=upstream.url,
            CORS_ORIGINS="*",
            LOG_LEVEL="warning",
        )
        gateway = subprocess.Popen(
            [sys.executable, "-m", "gateway"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            await wait_until_serving(port, "the gateway on API_GATEWAY_PORT")
            answer = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/runners",
                headers={"Origin": "https://anywhere.example", "X-Request-ID": "seed-env-1"},
                verify=client_context(),
            )
        finally:
            gateway.terminate()
            _, stderr = gateway.communicate(timeout=15)
    assert answer.status_code == 200, answer.text
    assert len(recorder.requests) == 1  # forwarded to ORCHESTRATOR_URL
    assert answer.headers["access-control-allow-origin"] in ("*", "https://anywhere.example")
    # LOG_LEVEL=warning: neither "gateway ready" nor the request line (both info) is written.
    assert '"gateway ready"' not in stderr and "seed-env-1" not in stderr


async def test_the_platforms_names_win_over_the_seeds(monkeypatch):
    monkeypatch.setenv("CONNESKILLS_GATEWAY_PORT", "9001")
    monkeypatch.setenv("API_GATEWAY_PORT", "9002")
    monkeypatch.setenv("CONNESKILLS_GATEWAY_CORS_ORIGINS", '["https://a.example"]')
    monkeypatch.setenv("CORS_ORIGINS", "https://b.example, https://c.example")
    monkeypatch.setenv("LOG_LEVEL", "Debug")
    settings = Settings()
    assert settings.gateway_port == 9001
    assert settings.gateway_cors_origins == ["https://a.example"]
    assert settings.gateway_log_level == "DEBUG"
    monkeypatch.delenv("CONNESKILLS_GATEWAY_CORS_ORIGINS")
    assert Settings().gateway_cors_origins == ["https://b.example", "https://c.example"]
