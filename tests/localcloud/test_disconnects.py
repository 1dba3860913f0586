"""A client that hangs up mid-request is expected, not a server error (issue 7, item 16).

Before the fix each such disconnect reached the catch-all handler as `ClientDisconnect`, was
answered 500 and logged by uvicorn as "Exception in ASGI application" with a full traceback.
"""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from localcloud.app import create_app
from tests.localcloud import unique

CREATE = "/v2/projects/p/locations/us-central1/services"


def _log_since(localcloud, offset: int) -> str:
    return (localcloud.data_dir / "localcloud.log").read_bytes()[offset:].decode(errors="replace")


def _hang_up_after(localcloud, raw: bytes, wait: float) -> None:
    with socket.create_connection((localcloud.host, localcloud.port)) as sock:
        sock.sendall(raw)
        time.sleep(wait)


def _post(path: str, body: bytes, declared: int | None = None) -> bytes:
    length = len(body) if declared is None else declared
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    return f"{head}Content-Length: {length}\r\n\r\n".encode() + body


def test_an_idle_keep_alive_connection_stays_open_past_the_clients_pool_times(localcloud):
    """Pooled clients (requests sessions, httpx: 5 s) must close an idle connection before the
    emulator does; were it the other way round, one reused just as the emulator closed it fails."""
    connection = http.client.HTTPConnection(localcloud.host, localcloud.port, timeout=10)
    try:
        connection.request("GET", "/_localcloud/health")
        assert connection.getresponse().read() == b'{"status":"ok"}'
        # Past uvicorn's default keep-alive of 5 s, which closed it by then.
        time.sleep(5.5)
        connection.sock.setblocking(False)
        with pytest.raises(BlockingIOError):
            connection.sock.recv(1)  # nothing to read; a closed connection reads b""
        connection.sock.setblocking(True)
        connection.request("GET", "/_localcloud/health")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_client_disconnects_log_no_traceback(localcloud, clean_faults):
    log = localcloud.data_dir / "localcloud.log"
    offset = log.stat().st_size if log.exists() else 0
    body = json.dumps({"template": {"containers": [{"image": "gcr.io/p/app:1"}]}}).encode()

    # Hangs up before the whole body arrived.
    _hang_up_after(localcloud, _post(f"{CREATE}?serviceId={unique('cut')}", body[:10], 100), 0.3)
    # Hangs up while its request waits (an injected latency), body already sent.
    late = unique("late")
    wait = localcloud.inject_fault(
        fail_next=1, code=None, path_contains=f"serviceId={late}", latency_ms=600
    )
    _hang_up_after(localcloud, _post(f"{CREATE}?serviceId={late}", body), 0.2)
    time.sleep(0.8)
    assert localcloud.fired(wait) == 1
    # Hangs up during a long poll on an operation.
    localcloud.set_lro_delay(2.0)
    try:
        op = localcloud._http.post(
            CREATE, params={"serviceId": unique("poll")}, json=json.loads(body)
        )
        wait = _post(f"/v2/{op.json()['name']}:wait", b'{"timeout": "5s"}')
        _hang_up_after(localcloud, wait, 0.3)
    finally:
        localcloud.set_lro_delay(0.2)
    time.sleep(2.0)

    assert localcloud._http.get("/_localcloud/health").status_code == 200
    text = _log_since(localcloud, offset)
    assert "Traceback" not in text and "ClientDisconnect" not in text, text[-3000:]
    assert "Exception in ASGI application" not in text


async def _call(app, method: str, path: str, receive) -> list[dict]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"serviceId=gone",
        "root_path": "",
        "headers": [(b"host", b"x"), (b"content-length", b"100")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }
    await app(scope, receive, send)
    return sent


async def test_disconnect_is_quiet_but_real_errors_still_raise():
    app = create_app()

    async def gone() -> dict:
        return {"type": "http.disconnect"}

    # The disconnect is handled inside the app: nothing reaches uvicorn's error log, no 500.
    sent = await _call(app, "POST", CREATE, gone)
    assert sent[0]["status"] == 499
    assert not app.state.localcloud.document("cloud_run").get("services")

    # A real bug still propagates to the server, which logs it with its traceback.
    @app.get("/_boom")
    async def boom() -> None:
        raise RuntimeError("a real bug")

    async def nothing() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    with pytest.raises(RuntimeError, match="a real bug"):
        await _call(app, "GET", "/_boom", nothing)
