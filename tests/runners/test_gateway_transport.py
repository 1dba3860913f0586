"""The gateway's upstream transport on the wire: a raw asyncio server plays the platform API, so
each test decides exactly what the upstream sends and when it hangs up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from gateway.transport import UpstreamTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


def answer(body: bytes, *, close: bool = False) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + connection
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + (await reader.readexactly(length) if length else b"")


class Upstream:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []

    async def __aenter__(self) -> str:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer, self.connections)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *_exc) -> None:
        self.server.close()


def client(url: str, timeout: float = 5.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, transport=UpstreamTransport(), timeout=timeout)


async def test_requests_share_one_keep_alive_connection_and_bodies_arrive_whole():
    async def handler(reader, writer, _n):
        while True:
            request = await read_request(reader)
            upstream.requests.append(request)
            writer.write(answer(b'{"echo": %d}' % len(request)))
            await writer.drain()

    upstream = Upstream(handler)
    async with upstream as url, client(url) as http:
        first = await http.post("/api/v1/runners?x=1", json={"count": 2}, headers={"X-A": "b"})
        second = await http.get("/api/v1/runners")
    assert first.status_code == 200 and second.status_code == 200
    assert upstream.connections == 1
    head = upstream.requests[0]
    assert head.startswith(b"POST /api/v1/runners?x=1 HTTP/1.1\r\n")
    assert b"\r\nX-A: b\r\n" in head and head.endswith(b'{"count":2}')
    assert b"\r\nContent-Length: 11\r\n" in head
    assert first.json() == {"echo": len(head)}


async def test_a_connection_the_upstream_closed_while_idle_is_replaced_not_failed():
    async def handler(reader, writer, _n):
        await read_request(reader)
        writer.write(answer(b"[]"))
        await writer.drain()
        # Keep-alive timeout: the server hangs up without saying so in its answer.

    upstream = Upstream(handler)
    async with upstream as url, client(url) as http:
        assert (await http.get("/a")).status_code == 200
        await asyncio.sleep(0.05)
        assert (await http.get("/b")).status_code == 200
    assert upstream.connections == 2


async def test_a_request_the_reused_connection_dropped_unanswered_goes_once_more():
    """The race a keep-alive timeout makes: the request leaves just as the server hangs up."""

    async def handler(reader, writer, n):
        await read_request(reader)
        writer.write(answer(b"[]"))
        await writer.drain()
        if n == 1:
            await read_request(reader)  # the second request: read, never answered

    upstream = Upstream(handler)
    async with upstream as url, client(url) as http:
        assert (await http.get("/a")).status_code == 200
        assert (await http.get("/b")).status_code == 200
    assert upstream.connections == 2


async def test_connection_close_and_chunked_answers():
    async def handler(reader, writer, n):
        await read_request(reader)
        if n == 1:
            writer.write(answer(b'{"a": 1}', close=True))
        else:
            writer.write(
                b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"4\r\n[1, \r\n2\r\n2]\r\n0\r\n\r\n"
            )
        await writer.drain()
        await asyncio.sleep(0.2)

    upstream = Upstream(handler)
    async with upstream as url, client(url) as http:
        assert (await http.get("/a")).json() == {"a": 1}
        chunked = await http.get("/b")
    assert chunked.status_code == 201 and chunked.json() == [1, 2]
    assert upstream.connections == 2


async def test_no_answer_in_time_is_a_read_timeout():
    async def handler(reader, _writer, _n):
        await read_request(reader)
        await asyncio.sleep(5)

    async with Upstream(handler) as url, client(url, timeout=0.3) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/slow")


async def test_an_answer_cut_half_way_is_an_error_and_not_sent_again():
    async def handler(reader, writer, _n):
        await read_request(reader)
        writer.write(answer(b'{"long": "answer"}')[:-5])
        await writer.drain()

    upstream = Upstream(handler)
    async with upstream as url, client(url) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/api/v1/runners", json={})
    assert upstream.connections == 1


async def test_nothing_listening_is_a_connect_error():
    async with Upstream(lambda *_: asyncio.sleep(0)) as url:
        pass  # closed again: the port is free now
    async with client(url) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/")
