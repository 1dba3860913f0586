"""The gateway's httpx transport to the platform API: HTTP/1.1 keep-alive connections on asyncio
streams, responses parsed by `httptools` (uvicorn's own parser, already installed).

Why not httpx's default transport: the gateway's whole job is one upstream call per request, and
httpcore (pure-Python h11 plus anyio's cancel scopes around every read and write) cost ~310 µs of
CPU per call against ~30 µs for the same exchange on a bare stream: most of what the gateway added
to a request (bench/gateway.py, target ≤ 2 ms at p50). The client stays an `httpx.AsyncClient`
(timeouts, headers, base URL, errors are httpx's); only the wire under it is this.

Scope, on purpose: one upstream (the platform API behind uvicorn), plain HTTP, bodies given whole,
answers with Content-Length or chunked. Errors are httpx's own types, so callers (`Upstream`'s
retry rule) cannot tell the difference.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httptools
import httpx

_READ_SIZE = 65536


class _Answer:
    """httptools callbacks, collecting one response."""

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete = False
        self.keep_alive = False
        self.parser = httptools.HttpResponseParser(self)

    def on_headers_complete(self) -> None:
        # Only valid here: llhttp resets its flags once the message is complete.
        self.keep_alive = self.parser.should_keep_alive()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @property
    def usable(self) -> bool:
        # The server closed it while idle (keep-alive timeout, restart): its EOF is already read.
        return not (self.writer.is_closing() or self.reader.at_eof())

    def close(self) -> None:
        self.writer.close()


def _timeout(request: httpx.Request, kind: str) -> float | None:
    return request.extensions.get("timeout", {}).get(kind)


async def _within(seconds: float | None, awaitable, error: Callable[[str], Exception]):
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        raise error("timed out") from None


class _NothingAnswered(httpx.RemoteProtocolError):
    """The connection failed before a byte of the answer came: on a reused idle connection, the
    server had closed it (keep-alive timeout, restart) and never read the request."""


class UpstreamTransport(httpx.AsyncBaseTransport):
    def __init__(self, max_idle: int = 50) -> None:
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._max_idle = max_idle

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(
                f"the gateway's transport speaks http, not {url.scheme}"
            )
        origin = (url.host, url.port or 80)
        body = await request.aread()
        head = _head(request, body)
        reused = self._take(origin)
        if reused is not None:
            try:
                return await self._exchange(reused, origin, request, head, body)
            except _NothingAnswered:
                pass  # once more, on a fresh connection
        connection = await self._open(origin, request)
        return await self._exchange(connection, origin, request, head, body)

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def _take(self, origin: tuple[str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.usable:
                return connection
            connection.close()
        return None

    def _give_back(self, origin: tuple[str, int], connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < self._max_idle:
            idle.append(connection)
        else:
            connection.close()

    async def _open(self, origin: tuple[str, int], request: httpx.Request) -> _Connection:
        try:
            reader, writer = await _within(
                _timeout(request, "connect"),
                asyncio.open_connection(*origin, limit=_READ_SIZE),
                httpx.ConnectTimeout,
            )
        except OSError as error:
            raise httpx.ConnectError(str(error) or type(error).__name__) from None
        return _Connection(reader, writer)

    async def _exchange(
        self,
        connection: _Connection,
        origin: tuple[str, int],
        request: httpx.Request,
        head: bytes,
        body: bytes,
    ) -> httpx.Response:
        try:
            connection.writer.write(head + body if len(body) < _READ_SIZE else head)
            if len(body) >= _READ_SIZE:
                connection.writer.write(body)
            await _within(_timeout(request, "write"), connection.writer.drain(), httpx.WriteTimeout)
        except OSError as error:
            connection.close()
            raise _NothingAnswered(f"writing the request failed: {error}") from None
        answer = _Answer()
        parser = answer.parser
        received = False
        try:
            while not answer.complete:
                data = await _within(
                    _timeout(request, "read"),
                    connection.reader.read(_READ_SIZE),
                    httpx.ReadTimeout,
                )
                if not data:
                    connection.close()
                    if received:
                        raise httpx.RemoteProtocolError("the upstream closed the answer half-way")
                    raise _NothingAnswered("the upstream closed the connection")
                received = True
                parser.feed_data(data)
        except httptools.HttpParserError as error:
            connection.close()
            raise httpx.RemoteProtocolError(f"malformed answer: {error}") from None
        except OSError as error:
            connection.close()
            if not received:
                raise _NothingAnswered(f"reading the answer failed: {error}") from None
            raise httpx.ReadError(str(error) or type(error).__name__) from None
        except BaseException:
            # A timeout or a cancel mid-answer leaves the stream out of step: never reuse it.
            connection.close()
            raise
        if answer.keep_alive:
            self._give_back(origin, connection)
        else:
            connection.close()
        return httpx.Response(
            parser.get_status_code(),
            headers=answer.headers,
            content=b"".join(answer.body),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )


def _head(request: httpx.Request, body: bytes) -> bytes:
    url = request.url
    target = url.raw_path  # path and query, already percent-encoded
    lines = [request.method.encode(), b" ", target, b" HTTP/1.1\r\n"]
    has_host = False
    for name, value in request.headers.raw:
        lower = name.lower()
        if lower == b"host":
            has_host = True
        if lower in (b"transfer-encoding", b"content-length"):
            continue
        lines += [name, b": ", value, b"\r\n"]
    if not has_host:
        lines += [b"Host: ", url.netloc, b"\r\n"]
    if body or request.method in ("POST", "PUT", "PATCH"):
        lines += [b"Content-Length: ", str(len(body)).encode(), b"\r\n"]
    lines.append(b"\r\n")
    return b"".join(lines)
