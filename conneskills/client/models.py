"""The client's types: the API's own pydantic models, resolved by name when a call needs them.

Decision: the client imports `api/schemas/...` rather than generating models from the OpenAPI
document. The client ships in the platform's distribution, so the models are always the ones the
API serves (no copy, no generation step to forget); validators run only when a request model is
built by the caller (the server validates every body anyway). Some schema modules import provider
rules (and with them the Google clients), so they are imported lazily, per call: `conneskills jobs
watch` loads only the job models. A client published apart from the platform would generate its
models from `/openapi.json` instead.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, TypeAdapter

if TYPE_CHECKING:
    from api.schemas.jobs import Job, JobLogs

OnFailure = Literal["rollback", "hold"]
FINAL = frozenset({"completed", "failed", "cancelled"})
# Where `wait` and `follow` stop by default: a final status, or held for a person to decide.
SETTLED = FINAL | {"needs_attention"}


def resolve(ref: str) -> Any:
    """The type a reference names: `module:Name`, `module:Generic[Arg]`, `list[<ref>]`, `str`,
    `dict` or `any` (JSON as decoded)."""
    if ref == "any":
        return Any
    if ref == "dict":
        return dict[str, Any]
    if ref == "str":
        return str
    if ref.startswith("list[") and ref.endswith("]"):
        return list[resolve(ref[5:-1])]
    module, _, expression = ref.partition(":")
    namespace = dict(vars(importlib.import_module(module)))
    # The expression is ours (a class name, or a generic of the module's classes), never input.
    return eval(expression, namespace)  # noqa: S307


@cache
def adapter(ref: str) -> TypeAdapter[Any]:
    return TypeAdapter(resolve(ref))


def parse(ref: str, data: Any) -> Any:
    return adapter(ref).validate_python(data)


def body_of(body: Any) -> dict[str, Any]:
    """A request body: the API's request model as the JSON it would send (fields the caller set),
    or a mapping with its None values left out."""
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_unset=True)
    if body is None:
        return {}
    if not hasattr(body, "items"):
        raise TypeError(f"a request body is a mapping or a pydantic model, not {type(body)}")
    return {k: v for k, v in body.items() if v is not None}


def new_lines(logs: JobLogs, seen: int) -> list[str]:
    """The lines of `logs` past the first `seen` of the job (a memo answer keeps only the newest
    lines, so some may have been skipped: then every line it has is new)."""
    count = logs.total - seen
    if count <= 0:
        return []
    return list(logs.logs[-count:]) if count <= len(logs.logs) else list(logs.logs)


@dataclass
class JobUpdate:
    """One look at a followed job: the job, and the log lines that arrived since the last look."""

    job: Job
    lines: list[str] = field(default_factory=list)
    missed: int = 0


@dataclass
class SseEvent:
    """One Server-Sent Event: its `id`, `event` name (`message` when it has none) and `data`."""

    id: str | None
    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class LogEvent:
    """One `log` event of `GET /logs/stream`."""

    id: str | None
    job_id: str
    line_no: int
    line: str

    @classmethod
    def of(cls, event: SseEvent) -> LogEvent:
        payload = event.json()
        return cls(
            id=event.id,
            job_id=payload.get("job_id", ""),
            line_no=int(payload.get("line_no", 0)),
            line=payload.get("line", ""),
        )


@dataclass
class ChatEvent:
    """One event of a chat turn (seed 002's stream): `type` is `thinking`, `tool_call`,
    `approval_required`, `tool_result`, `message`, `done` or `error`; `data` is the event whole
    (`content`, `tool`, `params`, `result`, `message`, … as its type has them)."""

    id: int
    type: str
    data: dict[str, Any]

    @property
    def final(self) -> bool:
        return self.type in ("done", "error")

    @classmethod
    def of(cls, event: SseEvent) -> ChatEvent:
        payload = event.json()
        return cls(id=int(payload.get("id") or event.id or 0), type=payload["type"], data=payload)


class SseParser:
    """Server-Sent Events, line by line: `feed` returns the event at each event's end (an empty
    line), None otherwise; comments (keep-alives) and events without data are skipped."""

    def __init__(self) -> None:
        self._id: str | None = None
        self._event = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> SseEvent | None:
        if line == "":
            data, event, self._data, self._event = self._data, self._event, [], "message"
            if not data:
                return None
            return SseEvent(id=self._id, event=event, data="\n".join(data))
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            self._id = value
        elif name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None
