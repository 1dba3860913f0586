"""`python -m gateway`: serves the gateway on `gateway_host:gateway_port` (127.0.0.1:8080). SIGTERM
and SIGINT stop accepting connections and let in-flight requests finish for up to
`gateway_drain_seconds` (5 s)."""

from __future__ import annotations

import logging

import uvicorn

from core.settings import SERVER_KEEP_ALIVE_SECONDS, get_settings
from gateway.app import create_app


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        # uvicorn's own lines (start-up, errors) only from WARNING up; the gateway's follow its level.
        log_level=logging.getLevelName(
            max(logging.WARNING, logging.getLevelName(settings.gateway_log_level))
        ).lower(),
        access_log=False,
        timeout_keep_alive=SERVER_KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=settings.gateway_drain_seconds,
    )


if __name__ == "__main__":
    main()
