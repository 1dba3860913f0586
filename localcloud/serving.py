"""Serves the local cloud's one app on its plain HTTP port and, for Proxmox VE, on a TLS port.

Both servers share the app (state, faults, request log) in one event loop. The TLS server speaks
HTTP/1.1 through h11 with one change: a response may carry its HTTP reason phrase in the
`x-localcloud-reason` header (taken out before sending), because proxmoxer reports an error by the
reason phrase (`ResourceException.content = resp.reason`), as pve-api-daemon sets it to the error
text; uvicorn otherwise always sends the standard phrase.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

REASON_HEADER = b"x-localcloud-reason"


class _ReasonConnection:
    """An h11 connection whose responses take their reason phrase from REASON_HEADER."""

    def __init__(self, conn: h11.Connection) -> None:
        self._conn = conn

    def send(self, event: Any) -> bytes | None:
        if isinstance(event, h11.Response):
            reason = None
            headers = []
            for name, value in event.headers:
                if name.lower() == REASON_HEADER:
                    reason = value
                else:
                    headers.append((name, value))
            if reason is not None:
                event = h11.Response(
                    status_code=event.status_code,
                    headers=headers,
                    reason=reason,
                    http_version=event.http_version,
                )
        return self._conn.send(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class ReasonPhraseH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _ReasonConnection(self.conn)  # type: ignore[assignment]

    def shutdown(self) -> None:
        # An idle TLS connection is dropped rather than closed: a close waits for the client's
        # close_notify, which an idle keep-alive client (proxmoxer's session) never sends.
        if self.cycle is None or self.cycle.response_complete:
            self.transport.abort()
        else:
            super().shutdown()


# How long an idle client connection stays open: longer than the clients keep theirs pooled, as
# Google's and Proxmox's front ends do, so the client closes first. At uvicorn's default 5 s, a
# pooled connection (the Google clients' requests sessions, proxmoxer's) reused just as the emulator
# closed it failed with "Remote end closed connection without response" (seen in a full run).
KEEP_ALIVE_SECONDS = 75


class _QuietServer(uvicorn.Server):
    """A server that leaves the signals to `serve`, which stops every server on SIGTERM/SIGINT."""

    def capture_signals(self):  # type: ignore[override]
        return contextlib.nullcontext()


def serve(
    app: Any,
    host: str,
    port: int,
    log_level: str,
    tls_port: int | None = None,
    certfile: Path | None = None,
    keyfile: Path | None = None,
) -> None:
    """Serve `app` on `port`, and on `tls_port` over TLS when given, until SIGTERM or SIGINT."""
    servers = [
        _QuietServer(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level=log_level,
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
            )
        )
    ]
    if tls_port:
        servers.append(
            _QuietServer(
                uvicorn.Config(
                    app,
                    host=host,
                    port=tls_port,
                    log_level=log_level,
                    http=ReasonPhraseH11Protocol,
                    ssl_certfile=str(certfile),
                    ssl_keyfile=str(keyfile),
                    # pve-api-daemon names itself; the emulator's responses add that header.
                    server_header=False,
                    # The app runs its lifespan once, through the plain server.
                    lifespan="off",
                    timeout_graceful_shutdown=2,
                    timeout_keep_alive=KEEP_ALIVE_SECONDS,
                )
            )
        )

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def stop() -> None:
            for server in servers:
                server.should_exit = True

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        tasks = [asyncio.create_task(server.serve()) for server in servers]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        # One server that ends (it could not bind its port) ends the other: the launcher restarts.
        stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    asyncio.run(main())
