"""The assistant jobs' compensation with recording activities standing in for the store: a LearnApi
that fails after storing forgets what it stored, and a turn that fails after saving its answer
takes the answer back (and only the answer: the user's message stays), as does one that fails
before its save (an attempt of the local save may have written it)."""

from __future__ import annotations

import uuid

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.jobs import JobActivities
from contracts.assistant.learned import LearnedApiSummary, LearnInput, LearnRequest
from contracts.assistant.names import LearnSteps, TurnSteps
from contracts.assistant.turn import (
    Completion,
    CompletionRequest,
    History,
    HistoryRequest,
    RemoveRequest,
    Saved,
    SaveRequest,
    TurnInput,
    TurnOpening,
)
from contracts.assistant.webhooks import Event, Published
from contracts.events import PUBLISH_EVENT
from core.settings import Settings
from tests.helpers.lock_worker import lock_worker
from workflows.assistant.learn import LearnApi
from workflows.assistant.turn import AssistantTurn


class Recording:
    """Activities under their real names that record calls; the `nth` call of `fail` does its work
    and then fails for good (the harder case: its write exists)."""

    def __init__(self, fail: str, nth: int = 1) -> None:
        self.calls: list[str] = []
        self.fail, self.nth = fail, nth
        self.inputs: dict[str, list] = {}

    def record(self, name: str, arg: object) -> None:
        self.calls.append(name)
        self.inputs.setdefault(name, []).append(arg)
        if name == self.fail and self.calls.count(name) == self.nth:
            raise ApplicationError(f"{name} failed after its work", non_retryable=True)


def _publish() -> object:
    @activity.defn(name=PUBLISH_EVENT)
    async def publish(event: Event) -> Published:
        return Published()

    return publish


def learn_activities(recording: Recording) -> list:
    @activity.defn(name=LearnSteps.LEARN)
    async def learn(request: LearnRequest) -> LearnedApiSummary:
        recording.record("learn", request)
        return LearnedApiSummary(api_id=request.learn.api_id, name="x", endpoints=1, base_url="")

    @activity.defn(name=LearnSteps.FORGET)
    async def forget(request: LearnRequest) -> bool:
        recording.record("forget", request)
        return True

    return [learn, forget, _publish()]


def turn_activities(recording: Recording) -> list:
    @activity.defn(name=TurnSteps.LOAD_HISTORY)
    async def load_history(request: HistoryRequest) -> History:
        recording.record("load_history", request)
        return History(found=True)

    @activity.defn(name=TurnSteps.OPEN_TURN)
    async def open_turn(opening: TurnOpening) -> History:
        recording.record("open_turn", opening)
        return History(found=True)

    @activity.defn(name=TurnSteps.SAVE_MESSAGES)
    async def save_messages(request: SaveRequest) -> Saved:
        recording.record("save_messages", request)
        return Saved(saved=True)

    @activity.defn(name=TurnSteps.COMPLETE)
    async def complete(request: CompletionRequest) -> Completion:
        recording.record("complete", request)
        return Completion(content="nothing to do", finish_reason="stop")

    @activity.defn(name=TurnSteps.REMOVE_MESSAGES)
    async def remove_messages(request: RemoveRequest) -> int:
        recording.record("remove_messages", request)
        return 1

    return [load_history, open_turn, save_messages, complete, remove_messages, _publish()]


async def run_job(env, workflow, arg, activities: list, job_id: str) -> None:
    queue = f"logic-{uuid.uuid4().hex[:8]}"
    jobs = JobActivities(env.client, Settings(job_lock_check_seconds=1.0, task_queue=queue))
    async with (
        lock_worker(env.client, queue, jobs),
        Worker(
            env.client,
            task_queue=queue,
            workflows=[workflow],
            activities=[*activities, *jobs.all()],
        ),
    ):
        await env.client.execute_workflow(workflow.run, arg, id=job_id, task_queue=queue)


async def test_a_learning_that_fails_after_storing_forgets_what_it_stored(temporal_env):
    recording = Recording(fail="learn")
    job_id = f"learn_api-{uuid.uuid4().hex[:8]}"
    learn = LearnInput(api_id="api_0123456789abcdef", owner="key:k", source="https://x/o.json")
    with pytest.raises(WorkflowFailureError):
        await run_job(temporal_env, LearnApi, learn, learn_activities(recording), job_id)
    assert recording.calls == ["learn", "forget"]
    (forgotten,) = recording.inputs["forget"]
    assert (forgotten.job_id, forgotten.learn.api_id) == (job_id, learn.api_id)


async def test_a_turn_that_fails_after_saving_its_answer_takes_only_the_answer_back(temporal_env):
    # The opening saves the user's message; the answer's save fails after its write.
    recording = Recording(fail="save_messages", nth=1)
    job_id = f"assistant_turn-{uuid.uuid4().hex[:8]}"
    turn = TurnInput(conversation_id="c-1", message="hello", model="gpt-4o", owner="key:k")
    with pytest.raises(WorkflowFailureError):
        await run_job(temporal_env, AssistantTurn, turn, turn_activities(recording), job_id)
    assert recording.calls == ["open_turn", "complete", "save_messages", "remove_messages"]
    (taken_back,) = recording.inputs["remove_messages"]
    assert (taken_back.conversation_id, taken_back.turn_id, taken_back.seqs) == ("c-1", job_id, [1])


async def test_a_turn_that_fails_before_saving_its_answer_still_asks_to_take_it_back(temporal_env):
    # The answer's save is a local activity whose undo is registered before the first LLM call:
    # a turn that stops before the save (here the LLM fails for good; in the fault harness a
    # cancel that made the server refuse the workflow task that ran the save) asks for the answer
    # to be taken back, which removes one an unrecorded attempt wrote, and nothing otherwise.
    recording = Recording(fail="complete")
    job_id = f"assistant_turn-{uuid.uuid4().hex[:8]}"
    turn = TurnInput(conversation_id="c-1", message="hello", model="gpt-4o", owner="key:k")
    with pytest.raises(WorkflowFailureError):
        await run_job(temporal_env, AssistantTurn, turn, turn_activities(recording), job_id)
    assert recording.calls == ["open_turn", "complete", "remove_messages"]
    (taken_back,) = recording.inputs["remove_messages"]
    assert (taken_back.conversation_id, taken_back.turn_id, taken_back.seqs) == ("c-1", job_id, [1])
