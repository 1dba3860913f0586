"""Everything a job's history holds, decoded with the platform's codec, as one searchable text."""

from __future__ import annotations

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client


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
