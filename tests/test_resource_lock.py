"""The lock that makes jobs on one subject take turns, with a job of no system (it holds its subject
until told to finish): first come first served, each waiter shows whom it waits for, a waiter that
ended is skipped, and the lock is no job: listings leave it out and it ends when nobody needs it."""

from __future__ import annotations

import asyncio
import time
import uuid

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.jobs import JobActivities
from contracts import task_queues
from contracts.jobs import JobState
from contracts.resource_lock import LOCK_DIVISION, TURN_SIGNAL, Turn, lock_id
from core.settings import Settings
from tests.helpers.hold_job import HoldUntilFinished
from workflows import resource_lock
from workflows.resource_lock import ResourceLock


async def eventually(check, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, f"still not true: {check.__doc__}"
        await asyncio.sleep(0.1)


class Jobs:
    def __init__(self, client: Client, queue: str, subject: str) -> None:
        self.client, self.queue, self.subject = client, queue, subject

    async def start(self) -> str:
        job_id = f"hold-{uuid.uuid4().hex[:8]}"
        await self.client.start_workflow(
            HoldUntilFinished.run, self.subject, id=job_id, task_queue=self.queue
        )
        return job_id

    async def start_in_line(self, count: int) -> list[str]:
        """Starts jobs one after the other, each once the one before is in line (jobs started at
        the same instant are queued in the order their requests reach the lock)."""
        started: list[str] = []
        for _ in range(count):
            started.append(await self.start())
            phase = f"waiting for {started[0]}" if len(started) > 1 else "holding"
            await self.shows(started[-1], phase=phase, behind=started[:-1])
        return started

    async def state(self, job_id: str) -> JobState:
        return await self.client.get_workflow_handle(job_id).query(
            "job_state", result_type=JobState
        )

    async def shows(self, job_id: str, *, phase: str, behind: list[str]) -> None:
        async def check():
            """the job shows the expected phase and queue"""
            state = await self.state(job_id)
            return state.current_phase == phase and state.queued_behind == behind

        await eventually(check)

    async def finish(self, job_id: str) -> None:
        handle = self.client.get_workflow_handle(job_id)
        await handle.signal(HoldUntilFinished.finish)
        await handle.result()


async def run_with_worker(client: Client, body) -> None:
    """The jobs on a queue of their own, and the lock on the core queue of that prefix, where the
    turn request starts it (as the platform's worker serves them)."""
    queue = f"lock-{uuid.uuid4().hex[:8]}"
    jobs = JobActivities(client, Settings(job_lock_check_seconds=1.0, task_queue=queue))

    def worker(task_queue: str, workflows: list) -> Worker:
        return Worker(
            client,
            task_queue=task_queue,
            workflows=workflows,
            activities=jobs.all(),
            workflow_runner=UnsandboxedWorkflowRunner(),
        )

    async with (
        worker(queue, [HoldUntilFinished]),
        worker(task_queues.queue(queue, task_queues.CORE), [ResourceLock]),
    ):
        await body(Jobs(client, queue, f"s-{uuid.uuid4().hex[:8]}"))


async def test_jobs_on_one_subject_run_in_turn_and_show_whom_they_wait_for(client, api):
    async def body(jobs: Jobs):
        first, second, third = await jobs.start_in_line(3)

        lock = lock_id(f"test:{jobs.subject}")
        assert (await api.get(f"/api/v1/jobs/{lock}")).status_code == 404
        unnamed = [w.id async for w in client.list_workflows("WorkflowType = 'ResourceLock'")]
        assert lock not in unnamed

        async def listed_in_its_division():
            """the lock is listed under its namespace division"""
            query = f"TemporalNamespaceDivision = '{LOCK_DIVISION}' AND WorkflowId = '{lock}'"
            return [w.id async for w in client.list_workflows(query)]

        await eventually(listed_in_its_division)

        await jobs.finish(first)
        await jobs.shows(second, phase="holding", behind=[])
        await jobs.shows(third, phase=f"waiting for {second}", behind=[second])
        await jobs.finish(second)
        await jobs.shows(third, phase="holding", behind=[])
        await jobs.finish(third)

        async def lock_ended():
            """the lock ends once nobody holds or waits"""
            description = await client.get_workflow_handle(lock).describe()
            return description.status == WorkflowExecutionStatus.COMPLETED

        await eventually(lock_ended)
        # And comes back for the next job.
        again = await jobs.start()
        await jobs.shows(again, phase="holding", behind=[])
        await jobs.finish(again)

    await run_with_worker(client, body)


async def test_a_waiter_that_ended_is_skipped_when_its_turn_comes(client):
    async def body(jobs: Jobs):
        first, second, third = await jobs.start_in_line(3)
        await client.get_workflow_handle(second).terminate("gone")
        await jobs.finish(first)
        await jobs.shows(third, phase="holding", behind=[])
        await jobs.finish(third)

    await run_with_worker(client, body)


async def test_a_long_lived_lock_continues_as_new_and_keeps_its_queue(client, monkeypatch):
    monkeypatch.setattr(resource_lock, "MAX_HISTORY_EVENTS", 20)

    async def body(jobs: Jobs):
        first, second, third = await jobs.start_in_line(3)
        await jobs.finish(first)
        await jobs.shows(second, phase="holding", behind=[])
        await jobs.shows(third, phase=f"waiting for {second}", behind=[second])
        await jobs.finish(second)
        await jobs.shows(third, phase="holding", behind=[])
        await jobs.finish(third)

        async def continued_as_new():
            """the lock has continued as new"""
            query = (
                f"TemporalNamespaceDivision = '{LOCK_DIVISION}' AND "
                f"WorkflowId = '{lock_id(f'test:{jobs.subject}')}'"
            )
            runs = [run.status async for run in client.list_workflows(query)]
            return WorkflowExecutionStatus.CONTINUED_AS_NEW in runs

        await eventually(continued_as_new)

    await run_with_worker(client, body)


async def turn_signals(client: Client, job_id: str) -> list[list[str]]:
    """The places the lock told the job by signal, in order."""
    history = await client.get_workflow_handle(job_id).fetch_history()
    told = []
    for event in history.events:
        if event.HasField("workflow_execution_signaled_event_attributes"):
            signal = event.workflow_execution_signaled_event_attributes
            if signal.signal_name == TURN_SIGNAL:
                [turn] = await client.data_converter.decode(signal.input.payloads, [Turn])
                told.append(turn.queued_behind)
    return told


async def test_the_answer_to_a_request_gives_the_place_and_signals_carry_only_changes(client):
    async def body(jobs: Jobs):
        first, second = await jobs.start_in_line(2)
        await jobs.finish(first)
        await jobs.shows(second, phase="holding", behind=[])
        await jobs.finish(second)
        # A free subject's job went on with the lock's answer: no signal, no wait.
        assert await turn_signals(client, first) == []
        # The one queued learnt its place from the answer, then heard once: its turn.
        assert await turn_signals(client, second) == [[]]

    await run_with_worker(client, body)
