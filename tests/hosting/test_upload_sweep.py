"""The uploads sweep: an API process killed mid-upload leaves a partial `POST /service` upload on
disk; the next API process removes it at start once stale, and keeps sweeping while it runs —
never a live upload, nor one a job is about to extract."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from tests.helpers.platform import ADMIN_KEY, ApiProcess, ApiServer, make_settings

BOUNDARY = "sweep-boundary"
HOUR = 3600


async def _half_an_upload(port: int) -> asyncio.StreamWriter:
    """A `POST /service` whose ZIP part has begun and whose body never ends."""
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="zip_file"; filename="site.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            "POST /service HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-API-Key: {ADMIN_KEY}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(head) + 10_000_000}\r\n\r\n"
        ).encode()
        + head
        + b"PK\x03\x04"
        + b"\0" * 65_536
    )
    await writer.drain()
    return writer


async def _until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


def _aged(path: Path, seconds: float) -> Path:
    """The file (made when missing) as if last written `seconds` ago."""
    if not path.exists():
        path.write_bytes(b"PK")
    at = time.time() - seconds
    os.utime(path, (at, at))
    return path


async def test_an_upload_cut_by_an_api_crash_is_swept_and_live_ones_are_kept(
    tmp_path, temporal_address, localcloud
):
    settings = make_settings(
        tmp_path,
        temporal_address,
        localcloud.url,
        hosting_upload_stale_seconds=HOUR,
        hosting_upload_orphan_seconds=6 * HOUR,
        hosting_upload_sweep_seconds=0.2,
    )
    uploads = settings.resolved_hosting_uploads_dir

    def files() -> list[Path]:
        return sorted(uploads.glob("upload-*")) if uploads.exists() else []

    with ApiProcess(settings, tmp_path / "api-crashed.log") as crashed:
        writer = await _half_an_upload(crashed.port)
        await _until(lambda: any(p.stat().st_size > 0 for p in files()))
        crashed.proc.kill()
        crashed.proc.wait()
        writer.close()
    [cut] = files()  # the crash left it: no request is left to remove it
    assert cut.name.endswith(".zip.part")  # a body that never ended: partial, by its name
    _aged(cut, 2 * HOUR)

    fresh = _aged(uploads / "upload-fresh.zip.part", 0)  # another process's, still streaming
    orphan = _aged(uploads / "upload-orphan.zip", 7 * HOUR)  # complete, no job came for it
    waiting = _aged(uploads / "upload-waiting.zip", 1 * HOUR)  # its job is about to extract it
    other = _aged(uploads / "notes.txt", 7 * HOUR)  # not an upload: not the sweep's

    with ApiServer(settings):
        await _until(lambda: not cut.exists() and not orphan.exists())
        assert fresh.exists() and waiting.exists() and other.exists()
        # The periodic sweep: the upload that was live stalls past the threshold and goes too.
        _aged(fresh, 2 * HOUR)
        await _until(lambda: not fresh.exists())
        assert waiting.exists() and other.exists()
