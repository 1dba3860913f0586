"""A worker killed with SIGKILL in the middle of a streamed chat turn: the turn's first LLM call
and its tool call already ran, the second LLM call is held at the local cloud's LLM emulator when
the worker dies. Another worker resumes the turn from its history: the first LLM call and the
tool are not run again (counted at the local cloud, and in the history), the conversation holds
one answer with its one tool call, the stream that stayed open gets every event once, and a
client that lost its stream at the kill gets the rest with `Last-Event-ID`."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType

from contracts.assistant.names import TurnSteps
from contracts.events import PUBLISH_EVENT
from contracts.resource_lock import LockSteps
from tests.helpers.faults import wait_until_fired
from tests.helpers.history import local_activities
from tests.helpers.platform import ADMIN_KEY, own_platform, wait_for_job

SEQUENCE = ["thinking", "tool_call", "tool_result", "thinking", "message", "done"]
CHAT = "/litellm/v1/chat/completions"


class _Stream:
    """One SSE response read a part at a time (an httpx response is iterated only once)."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()
        self.events: list[dict[str, Any]] = []

    async def until(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Reads events until one of type `kind` (None: until the stream ends)."""
        event_id = None
        async for line in self.lines:
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                event = json.loads(line[6:])
                assert str(event["id"]) == event_id
                self.events.append(event)
                if event["type"] == kind:
                    break
        return self.events


async def test_a_worker_killed_mid_turn_resumes_it_without_running_anything_twice(
    client, settings, localcloud, data_dir
):
    name = f"turnkill-{uuid.uuid4().hex[:8]}"
    message = f"What is the status of service {name}"
    # Counters scoped to this turn: every LLM call of it names the service in the user's message;
    # only the calls after the tool ran carry the tool call's arguments, JSON inside JSON
    # (`\"turnkill-…\"`).
    after_tool = f'\\"{name}\\"'
    llm_calls = localcloud.inject_fault(
        fail_next=0, code=None, latency_ms=1, method="POST", path_contains=CHAT, body_contains=name
    )
    second_calls = localcloud.inject_fault(
        fail_next=0,
        code=None,
        latency_ms=1,
        method="POST",
        path_contains=CHAT,
        body_contains=after_tool,
    )
    # The second LLM call waits long enough for the worker to be killed while it is held.
    hold = localcloud.inject_fault(
        fail_next=1,
        code=None,
        latency_ms=60_000,
        method="POST",
        path_contains=CHAT,
        body_contains=after_tool,
    )
    try:
        async with own_platform(data_dir, settings.temporal_address, localcloud.url) as own:
            # The worker's platform tools call this platform's API, with its admin key.
            own.popen_kwargs["env"] = {
                "CONNESKILLS_ASSISTANT_PLATFORM_API_URL": str(own.api.base_url).rstrip("/"),
                "CONNESKILLS_ADMIN_API_KEY": ADMIN_KEY,
            }
            own.kill_worker()
            own.restart_worker()
            http = own.api
            created = await http.post("/api/conversations", json={"title": "kill"})
            assert created.status_code in (200, 201), created.text
            conversation = created.json()["id"]

            async with http.stream(
                "POST",
                "/api/chat",
                json={"conversation_id": conversation, "message": message, "stream": True},
                timeout=120,
            ) as response:
                assert response.status_code == 200, await response.aread()
                job_id = response.headers["x-job-id"]
                path = f"/api/chat/turns/{job_id}/events"
                # A second client, cut off at the kill, and the stream that stays open.
                async with http.stream("GET", path) as other:
                    assert other.status_code == 200
                    lost = await _Stream(other).until("tool_result")
                kept_stream = _Stream(response)
                await kept_stream.until("tool_result")
                await wait_until_fired(localcloud, hold, seconds=60)
                own.kill_worker()
                # The cut-off client reconnects while no worker runs: it must be let in (a
                # browser's EventSource gives up on any answer but 200) and wait for the rest.
                resumed = {"Last-Event-ID": str(lost[-1]["id"])}
                async with http.stream("GET", path, headers=resumed, timeout=120) as again:
                    assert again.status_code == 200, await again.aread()
                    own.restart_worker()
                    rest = await _Stream(again).until()
                kept = await kept_stream.until()

            done = await wait_for_job(http, job_id, seconds=120)
            assert done["status"] == "completed", done

            # Every event once, in order, on the stream that stayed open and on the resumed one.
            assert [e["type"] for e in kept] == SEQUENCE, kept
            assert [e["id"] for e in kept] == list(range(1, len(SEQUENCE) + 1))
            assert lost + rest == kept
            assert kept[1]["tool"] == "get_service_status"
            assert kept[1]["params"] == {"service_name": name}

            # The tool's one outgoing call (Cloud Run's GET of the service), the first LLM call
            # once; the second was held, lost with the worker, and made again.
            assert localcloud.request_count("GET", f"/services/{name}") == 1
            assert localcloud.fired(hold) == 1
            assert localcloud.fired(second_calls) == 2
            assert localcloud.fired(llm_calls) - localcloud.fired(second_calls) == 1

            # The history agrees: one tool activity, two LLM activities, the second retried.
            history = await client.get_workflow_handle(job_id).fetch_history()
            scheduled: dict[int, str] = {}
            attempts: dict[str, list[int]] = {}
            for event in history.events:
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                    kind = event.activity_task_scheduled_event_attributes.activity_type.name
                    scheduled[event.event_id] = kind
                elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                    started = event.activity_task_started_event_attributes
                    kind = scheduled[started.scheduled_event_id]
                    attempts.setdefault(kind, []).append(started.attempt)
            assert attempts[TurnSteps.RUN_TOOL] == [1]
            assert attempts[TurnSteps.COMPLETE] == [1, 2]
            # The opening, taking and giving back the conversation's turn, the answer's save and
            # the job's event are local activities: each recorded once, in its first attempt (the
            # kill was in another workflow task). The last two run side by side: either may end
            # first.
            recorded = local_activities(history)
            assert recorded[:3] == [
                (LockSteps.REQUEST_TURN, 1),
                (TurnSteps.OPEN_TURN, 1),
                (TurnSteps.SAVE_MESSAGES, 1),
            ]
            assert sorted(recorded[3:]) == sorted([(LockSteps.RELEASE_TURN, 1), (PUBLISH_EVENT, 1)])
            assert TurnSteps.SAVE_MESSAGES not in attempts

            # One answer in the conversation, with its one tool call.
            detail = (await http.get(f"/api/conversations/{conversation}")).json()
            assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
            (call,) = detail["messages"][1]["tool_calls"]
            assert call["name"] == "get_service_status"
            assert detail["messages"][1]["content"] == kept[4]["content"]
    finally:
        localcloud.clear_faults()


async def test_a_streamed_turn_sends_its_first_event_before_any_worker_runs_it(
    settings, localcloud, data_dir
):
    """The stream that starts a turn sends the turn's first event (`thinking`, id 1) as soon as the
    job exists, even with no worker running: then the worker's events follow from id 2, none twice,
    and a client resuming after id 1 gets exactly the rest."""
    name = f"firstevent-{uuid.uuid4().hex[:8]}"
    async with own_platform(data_dir, settings.temporal_address, localcloud.url) as own:
        own.kill_worker()
        own.popen_kwargs["env"] = {
            "CONNESKILLS_ASSISTANT_PLATFORM_API_URL": str(own.api.base_url).rstrip("/"),
            "CONNESKILLS_ADMIN_API_KEY": ADMIN_KEY,
        }
        http = own.api
        created = await http.post("/api/conversations", json={"title": "first"})
        assert created.status_code in (200, 201), created.text
        conversation = created.json()["id"]
        message = f"What is the status of service {name}"
        async with http.stream(
            "POST",
            "/api/chat",
            json={"conversation_id": conversation, "message": message, "stream": True},
            timeout=120,
        ) as response:
            assert response.status_code == 200, await response.aread()
            job_id = response.headers["x-job-id"]
            stream = _Stream(response)
            first = await asyncio.wait_for(stream.until("thinking"), 10)
            assert first == [{"id": 1, "type": "thinking", "content": "Analizando request..."}]
            own.restart_worker()
            events = await stream.until()
        assert [e["type"] for e in events] == SEQUENCE, events
        assert [e["id"] for e in events] == list(range(1, len(SEQUENCE) + 1))
        path = f"/api/chat/turns/{job_id}/events"
        async with http.stream("GET", path, headers={"Last-Event-ID": "1"}) as again:
            assert again.status_code == 200
            assert await _Stream(again).until() == events[1:]
        await wait_for_job(http, job_id, seconds=60)
        # The turn has completed and no worker answers a query: its events come from its result.
        own.kill_worker()
        async with http.stream("GET", path, timeout=30) as after_end:
            assert after_end.status_code == 200
            assert await _Stream(after_end).until() == events
