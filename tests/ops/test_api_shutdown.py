"""An API process with log streams open stops at once on Ctrl-C or SIGTERM (it waited for the
endless streams forever), and the streams it ends resume elsewhere with Last-Event-ID."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from providers.tls import client_context
from tests.helpers.platform import ADMIN_KEY, ApiProcess, make_settings

QUICK = {"log_stream_keepalive_seconds": 0.5, "job_log_record_seconds": 0.2}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_open_log_streams_end_when_the_api_is_told_to_stop(
    sig, tmp_path, temporal_address, localcloud
):
    settings = make_settings(tmp_path, temporal_address, localcloud.url, **QUICK)
    with ApiProcess(settings, tmp_path / "api.log") as api:
        async with httpx.AsyncClient(
            verify=client_context(), base_url=api.url, headers={"X-API-Key": ADMIN_KEY}, timeout=30
        ) as http:
            streams = [http.stream("GET", "/logs/stream") for _ in range(2)]
            responses = [await stream.__aenter__() for stream in streams]
            try:
                assert all(r.status_code == 200 for r in responses)
                readers = [asyncio.create_task(_until_closed(r)) for r in responses]
                await asyncio.sleep(1.0)  # both streams have sent their keep-alives
                assert not any(reader.done() for reader in readers)
                told = time.monotonic()
                api.proc.send_signal(sig)
                async with asyncio.timeout(10):
                    await asyncio.gather(*readers)
                    while api.proc.poll() is None:
                        await asyncio.sleep(0.05)
                # Well inside a stream's keep-alive period and any reasonable stop timeout.
                assert time.monotonic() - told < 5, api.log_path.read_text()[-2000:]
            finally:
                for stream in streams:
                    await stream.__aexit__(None, None, None)


async def _until_closed(response: httpx.Response) -> None:
    """Reads the stream until the server ends it (a clean end of the chunked body)."""
    async for _ in response.aiter_lines():
        pass
