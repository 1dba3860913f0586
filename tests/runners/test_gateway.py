"""The seed-004 gateway in front of the real API (worker, dev server, local cloud) and in front of
fake upstreams that fail on purpose: validation, envelope, pass-through auth, retries and their
backoff, timeouts, health, request ids."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime

import httpx
import pytest
from fastapi import Request
from fastapi.responses import JSONResponse

from providers.tls import client_context
from tests.helpers.gateway import BASE, Recorder, gateway_for, json_answer, wait_until_serving
from tests.helpers.platform import ADMIN_KEY, free_port, wait_for_job
from tests.helpers.runners import Served, new_repo, set_job_seconds


@pytest.fixture
async def gateway(api, api_server, settings):
    with gateway_for(settings, api_server.url) as served:
        async with httpx.AsyncClient(
            verify=client_context(),
            base_url=served.url,
            headers={"X-API-Key": ADMIN_KEY},
            timeout=60,
        ) as http:
            yield http


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]


async def test_gateway_creates_runners_in_the_seed_envelope_and_they_finish(
    gateway, api, localcloud
):
    repo = new_repo(localcloud.url)
    answer = await gateway.post(
        "/api/v1/runners",
        json={"scope": "repo", "scope_name": repo, "labels": ["linux"], "count": 2},
        headers={"X-Request-ID": "req-from-client-1"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"status", "data", "message", "timestamp"}
    assert body["status"] == "success" and body["message"] == "Creados 2 runners exitosamente"
    assert body["timestamp"].endswith("Z")
    assert answer.headers["X-Request-ID"] == "req-from-client-1"
    ids = [r["runner_id"] for r in body["data"]]
    assert [r["status"] for r in body["data"]] == ["creating", "creating"]
    one = (await gateway.get(f"/api/v1/runners/{ids[0]}")).json()
    assert one["status"] == "success" and one["data"]["runner_id"] == ids[0]
    assert one["data"]["labels"] == {"scope": "repo", "scope_name": repo, "runner": ids[0]}
    listed = (await gateway.get("/api/v1/runners")).json()
    assert listed["message"].startswith("Listados ")
    for runner_id in ids:
        assert (await wait_for_job(api, runner_id))["status"] == "completed"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"scope_name": "myorg/myrepo"}, "Campo obligatorio faltante: scope"),
        ({"scope": "repo"}, "Campo obligatorio faltante: scope_name"),
        ({"scope": "team", "scope_name": "x"}, "Scope debe ser 'repo' u 'org'"),
        (
            {"scope": "repo", "scope_name": "myorg"},
            "Para scope='repo', scope_name debe tener formato owner/repo",
        ),
        ({"scope": "org", "scope_name": "o", "count": 11}, "count debe ser un entero entre 1 y 10"),
        ({"scope": "org", "scope_name": "o", "count": 0}, "count debe ser un entero entre 1 y 10"),
        (
            {"scope": "org", "scope_name": "o", "labels": ["a", ""]},
            "labels debe ser una lista de strings no vacíos",
        ),
        (
            {"scope": "org", "scope_name": "o", "labels": [1]},
            "labels debe ser una lista de strings no vacíos",
        ),
    ],
)
async def test_invalid_requests_are_refused_before_forwarding(settings, body, message):
    recorder = Recorder(lambda request, n: json_answer(202, {"runners": []}))
    with Served(recorder.app) as upstream, gateway_for(settings, upstream.url) as served:
        answer = httpx.post(f"{served.url}/api/v1/runners", json=body, verify=client_context())
    assert answer.status_code == 400
    assert answer.json()["status"] == "error" and answer.json()["message"] == message
    assert answer.json()["data"] is None
    assert recorder.requests == []


async def test_platform_errors_keep_their_status_in_the_envelope(gateway):
    for runner_id in ("runner-000000000000", "nonexistent"):
        missing = await gateway.get(f"/api/v1/runners/{runner_id}")
        assert missing.status_code == 404
        assert missing.json()["status"] == "error"
        assert missing.json()["message"] == "Runner no encontrado"
        assert missing.json()["data"]["code"] == "not_found"
    no_key = await gateway.get("/api/v1/runners", headers={"X-API-Key": ""})
    assert no_key.status_code == 401 and no_key.json()["status"] == "error"
    unknown = await gateway.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["status"] == "error"


async def test_upstream_down_answers_503_after_exactly_three_retries_with_doubling_gaps(settings):
    async def unavailable(request, n):
        return await json_answer(503, {"error": {"code": "unavailable", "message": "down"}})

    recorder = Recorder(unavailable)
    with Served(recorder.app) as upstream, gateway_for(settings, upstream.url) as served:
        answer = await asyncio.to_thread(httpx.get, f"{served.url}/api/v1/runners", timeout=30)
    assert answer.status_code == 503
    assert answer.json()["status"] == "error" and answer.json()["data"]["attempts"] == 4
    assert len(recorder.times) == 4  # the first try and exactly 3 retries
    first, second, third = gaps(recorder.times)
    assert first == pytest.approx(BASE, abs=0.1)
    assert second / first == pytest.approx(2, rel=0.3)
    assert third / second == pytest.approx(2, rel=0.3)


async def test_unreachable_upstream_answers_503_after_the_backoff(settings, capfd):
    with gateway_for(settings, f"http://127.0.0.1:{free_port()}") as served:
        capfd.readouterr()
        started = time.monotonic()
        answer = await asyncio.to_thread(httpx.get, f"{served.url}/api/v1/runners", timeout=30)
        took = time.monotonic() - started
    assert answer.status_code == 503
    assert answer.json()["message"] == "Orquestador no disponible"
    assert took >= 7 * BASE  # it waited the whole backoff, 1 + 2 + 4 bases, before answering
    # The backoff itself from the gateway's own attempt lines: the time the client saw also holds
    # its connection and the gateway's start-up, which a busy machine stretched by 0.7 s.
    attempts = [
        json.loads(line)
        for line in capfd.readouterr().err.splitlines()
        if '"event": "upstream attempt failed"' in line
    ]
    assert [attempt["attempt"] for attempt in attempts] == [1, 2, 3, 4]
    first, second, third = gaps(
        [datetime.fromisoformat(attempt["timestamp"]).timestamp() for attempt in attempts]
    )
    assert first == pytest.approx(BASE, abs=0.1)
    assert second / first == pytest.approx(2, rel=0.3)
    assert third / second == pytest.approx(2, rel=0.3)


async def test_a_slow_upstream_answers_504(settings):
    async def slow(request, n):
        await asyncio.sleep(3)
        return await json_answer(200, [])

    recorder = Recorder(slow)
    with (
        Served(recorder.app) as upstream,
        gateway_for(settings, upstream.url, gateway_upstream_timeout_seconds=0.5) as served,
    ):
        answer = await asyncio.to_thread(httpx.get, f"{served.url}/api/v1/runners", timeout=30)
    assert answer.status_code == 504
    assert answer.json()["message"] == "Timeout del orquestador"
    assert len(recorder.times) == 1


async def test_a_post_retried_by_the_gateway_creates_its_runners_once(
    api, api_server, settings, localcloud
):
    """The first attempt reaches the platform, but its answer is lost (a 502 from a proxy): the
    retry carries the same Idempotency-Key and lands on the same jobs."""
    repo = new_repo(localcloud.url)
    set_job_seconds(localcloud.url, 2)
    seen: list[dict] = []

    async def lossy(request: Request, n: int):
        async with httpx.AsyncClient(
            verify=client_context(), base_url=api_server.url, timeout=30
        ) as platform:
            forwarded = await platform.request(
                request.method,
                f"/{request.path_params['path']}",
                content=await request.body(),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            )
        seen.append(forwarded.json())
        if n == 1:
            return await json_answer(502, {"error": {"code": "upstream_error", "message": "lost"}})
        return JSONResponse(forwarded.json(), status_code=forwarded.status_code)

    recorder = Recorder(lossy)
    with Served(recorder.app) as upstream, gateway_for(settings, upstream.url) as served:
        answer = await asyncio.to_thread(
            httpx.post,
            f"{served.url}/api/v1/runners",
            json={"scope": "repo", "scope_name": repo, "count": 2},
            headers={"X-API-Key": ADMIN_KEY},
            timeout=30,
        )
    assert answer.status_code == 200, answer.text
    assert len(recorder.requests) == 2
    keys = {r["headers"]["idempotency-key"] for r in recorder.requests}
    assert len(keys) == 1 and keys.pop().startswith("gw-")
    first_ids = [r["runner_id"] for r in seen[0]["runners"]]
    assert [r["runner_id"] for r in answer.json()["data"]] == first_ids
    jobs = (await api.get("/api/v1/jobs", params={"operation": "runner", "limit": 100})).json()
    mine = [j for j in jobs["jobs"] if j["labels"].get("scope_name") == repo]
    assert len(mine) == 2


async def test_health_reports_degraded_when_the_upstream_is_unreachable(settings, api_server, api):
    with gateway_for(settings, api_server.url) as served:
        healthy = httpx.get(f"{served.url}/api/v1/health", verify=client_context()).json()
        assert healthy["data"]["status"] == "healthy"
        assert healthy["data"]["orchestrator"] == "healthy"
        assert (
            httpx.get(f"{served.url}/health", verify=client_context()).json()["data"]["status"]
            == "healthy"
        )
    with gateway_for(settings, f"http://127.0.0.1:{free_port()}") as served:
        degraded = httpx.get(f"{served.url}/api/v1/health", verify=client_context())
        assert degraded.status_code == 200
        assert degraded.json()["data"] == {
            "status": "degraded",
            "service": "api-gateway",
            "version": degraded.json()["data"]["version"],
            "orchestrator": "unreachable",
        }
        healthz = httpx.get(f"{served.url}/healthz", verify=client_context())
        assert healthz.json()["data"]["status"] == "healthy"


async def test_the_gateway_sends_its_user_agent_and_a_request_id_upstream(settings):
    recorder = Recorder(lambda request, n: json_answer(200, []))
    with Served(recorder.app) as upstream, gateway_for(settings, upstream.url) as served:
        answer = httpx.get(
            f"{served.url}/api/v1/runners", headers={"X-API-Key": "k"}, verify=client_context()
        )
    headers = recorder.requests[0]["headers"]
    assert headers["user-agent"].startswith("GHA-API-Gateway/")
    assert headers["x-request-id"] == answer.headers["x-request-id"]
    assert headers["x-api-key"] == "k"
    assert answer.json() == {**answer.json(), "status": "success", "data": []}


async def test_sigterm_lets_an_in_flight_request_finish(settings):
    import os
    import signal
    import subprocess
    import sys

    from tests.helpers.platform import ROOT

    async def slow(request, n):
        await asyncio.sleep(1.5)
        return await json_answer(200, [{"runner_id": "runner-slow"}])

    recorder = Recorder(slow)
    port = free_port()
    env = {
        **os.environ,
        "CONNESKILLS_GATEWAY_PORT": str(port),
        "CONNESKILLS_GATEWAY_UPSTREAM_URL": "",
    }
    with Served(recorder.app) as upstream:
        env["CONNESKILLS_GATEWAY_UPSTREAM_URL"] = upstream.url
        gateway = subprocess.Popen(
            [sys.executable, "-m", "gateway"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await wait_until_serving(port, "the gateway")
            in_flight = asyncio.create_task(
                asyncio.to_thread(httpx.get, f"http://127.0.0.1:{port}/api/v1/runners", timeout=10)
            )
            while not recorder.times:
                await asyncio.sleep(0.02)
            gateway.send_signal(signal.SIGTERM)
            answer = await in_flight
            assert answer.status_code == 200
            assert answer.json()["data"] == [{"runner_id": "runner-slow"}]
            # uvicorn re-raises the signal once drained: ended by SIGTERM, not crashed.
            assert gateway.wait(timeout=10) in (0, -signal.SIGTERM)
        finally:
            if gateway.poll() is None:
                gateway.kill()
                gateway.wait()


async def test_loopback_health_checks_are_not_logged_but_requests_are(settings, capfd):
    recorder = Recorder(lambda request, n: json_answer(200, []))
    with Served(recorder.app) as upstream, gateway_for(settings, upstream.url) as served:
        capfd.readouterr()
        httpx.get(f"{served.url}/healthz", verify=client_context())
        httpx.get(f"{served.url}/health", verify=client_context())
        httpx.get(
            f"{served.url}/api/v1/runners",
            headers={"X-Request-ID": "logged-1"},
            verify=client_context(),
        )
        await asyncio.sleep(0.1)
    lines = [line for line in capfd.readouterr().err.splitlines() if '"event": "request"' in line]
    assert len(lines) == 1 and '"request_id": "logged-1"' in lines[0]


async def test_cors_origins_come_from_settings_and_docs_work_offline(settings):
    recorder = Recorder(lambda request, n: json_answer(200, []))
    allowed = "https://console.example.com"
    with (
        Served(recorder.app) as upstream,
        gateway_for(settings, upstream.url, gateway_cors_origins=[allowed]) as served,
    ):
        ok = httpx.get(
            f"{served.url}/api/v1/runners", headers={"Origin": allowed}, verify=client_context()
        )
        other = httpx.get(
            f"{served.url}/api/v1/runners",
            headers={"Origin": "https://evil.example"},
            verify=client_context(),
        )
        docs = httpx.get(f"{served.url}/docs", verify=client_context())
    assert ok.headers["access-control-allow-origin"] == allowed
    assert "access-control-allow-origin" not in other.headers
    assert docs.status_code == 200 and "cdn.jsdelivr" not in docs.text
