"""`GET /logs/stream`: the platform's job log lines as Server-Sent Events (seed 001's open stream,
now behind the `hosting` scope). Resumable with `Last-Event-ID`; see api/logic/hosting/log_stream.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query
from fastapi.responses import StreamingResponse

from api import sse
from api.auth import HostingScope
from api.deps import DbDep, JobLogFeedDep, SettingsDep
from api.errors import ApiError, answers
from api.http import JsonRouter
from api.logic.hosting.log_stream import events

router = JsonRouter(prefix="/logs", tags=["hosting"], responses=answers(400, 401, 403))

_STREAM = {
    200: {
        "description": "`text/event-stream`: one `log` event per job log line, `id` = the "
        "line's offset; `: keep-alive` comments while there is nothing to send.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get("/stream", response_class=StreamingResponse, responses={**_STREAM, **answers(503)})
async def stream_logs(
    _: HostingScope,
    db: DbDep,
    settings: SettingsDep,
    feed: JobLogFeedDep,
    job_id: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z0-9_.:-]{1,200}$", description="Only this job's lines."),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            pattern=r"^\d{1,18}$",
            description="Resume after this event id (what the browser's EventSource sends "
            "when it reconnects); without it the stream starts with the next line recorded.",
        ),
    ] = None,
) -> StreamingResponse:
    if feed is None:
        raise ApiError(503, "the job log feed is not running", details={"upstream": "api"})
    stream = events(
        db,
        feed,
        settings,
        after=int(last_event_id) if last_event_id is not None else None,
        job_id=job_id,
    )
    return sse.response(stream)
