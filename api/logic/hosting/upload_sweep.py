"""The uploads sweep: removes what refused or abandoned `POST /service` uploads left in the uploads
directory, once at API start and then every `hosting_upload_sweep_seconds`.

A request that is refused removes its own file (api/logic/hosting/service_form.py); this is for
what no request is left to remove: a partial upload (`upload-*.zip.part`) whose API process died
mid-body, once nothing has written to it for `hosting_upload_stale_seconds` (a live upload keeps
writing, so its time keeps moving), and a complete upload (`upload-*.zip`) that no job extracted
within `hosting_upload_orphan_seconds` (its process died between the body and the job's start; a
job extracts its upload within seconds of starting, and removes it then). Every API process sharing
the directory sweeps it; removing a file twice is harmless."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from api.logic.hosting.service_form import PARTIAL_SUFFIX
from core.settings import Settings

log = structlog.get_logger(__name__)
_PREFIX = "upload-"


@dataclass(frozen=True)
class Swept:
    partial: int = 0
    orphaned: int = 0


def sweep(uploads: Path, stale_seconds: float, orphan_seconds: float) -> Swept:
    """Removes the stale partial and orphaned complete uploads; returns how many of each."""
    now = time.time()
    partial = orphaned = 0
    try:
        entries = list(uploads.iterdir())
    except FileNotFoundError:
        return Swept()
    for path in entries:
        name = path.name
        if not name.startswith(_PREFIX):
            continue
        if name.endswith(PARTIAL_SUFFIX):
            threshold, kind = stale_seconds, "partial"
        elif name.endswith(".zip"):
            threshold, kind = orphan_seconds, "orphaned"
        else:
            continue
        try:
            idle = now - path.lstat().st_mtime
            if idle < threshold or not path.is_file():
                continue
            path.unlink()
        except FileNotFoundError:
            continue
        if kind == "partial":
            partial += 1
        else:
            orphaned += 1
    if partial or orphaned:
        log.info("uploads swept", partial=partial, orphaned=orphaned, directory=str(uploads))
    return Swept(partial, orphaned)


async def sweep_forever(settings: Settings) -> None:
    """The API's sweeper task: a sweep now, then one every `hosting_upload_sweep_seconds`."""
    while True:
        try:
            await asyncio.to_thread(
                sweep,
                settings.resolved_hosting_uploads_dir,
                settings.hosting_upload_stale_seconds,
                settings.hosting_upload_orphan_seconds,
            )
        except OSError as error:  # the directory unreadable for now: the next sweep retries
            log.warning("uploads not swept", error_type=type(error).__name__)
        await asyncio.sleep(settings.hosting_upload_sweep_seconds)
