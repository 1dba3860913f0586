"""Everything a job's history holds, decoded with the platform's codec, as one searchable text; and
the local activities it records."""

from __future__ import annotations

import json

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory


def _payloads(message: Message):
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if isinstance(value, Message):
            yield from _payloads(value)
            continue
        # A repeated field or a map (whose values are the messages).
        items = value.values() if hasattr(value, "values") and callable(value.values) else value
        for item in items:
            if isinstance(item, Message):
                yield from _payloads(item)


async def decoded_history_text(client: Client, job_id: str) -> str:
    """The history's JSON (failure messages, attributes) plus every payload decrypted and decoded."""
    history = await client.get_workflow_handle(job_id).fetch_history()
    payloads = [p for event in history.events for p in _payloads(event)]
    codec = client.data_converter.payload_codec
    decoded = await codec.decode(payloads) if codec else payloads
    texts = [history.to_json()]
    texts += [p.data.decode(errors="replace") for p in decoded]
    texts += [str(dict(p.metadata)) for p in decoded]
    return "\n".join(texts)


LOCAL_ACTIVITY_MARKER = "core_local_activity"


def local_activities(history: WorkflowHistory) -> list[tuple[str, int]]:
    """The local activities a history records (type, attempt), in order: each is a marker, not an
    activity event."""
    return [found for event in history.events if (found := _local_activity(event)) is not None]


def local_activity_type(event: HistoryEvent) -> str | None:
    """The type of the local activity this event records; None for any other event."""
    found = _local_activity(event)
    return None if found is None else found[0]


def _local_activity(event: HistoryEvent) -> tuple[str, int] | None:
    # The marker's `data` is written by the SDK's core, not encoded by the codec.
    if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
        return None
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != LOCAL_ACTIVITY_MARKER:
        return None
    data = json.loads(marker.details["data"].payloads[0].data)
    return data["activity_type"], data["attempt"]
