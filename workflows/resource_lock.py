"""One writer per resource: jobs on the same subject (`service:hello`) take turns, first come first
served, through a lock workflow per subject.

Why a workflow and not a row or a refusal: Temporal already keeps it durable and ordered, a job
waits for its turn as a plain `wait_condition` (so it can be cancelled while it waits), and nothing
outside Temporal has to stay consistent with the jobs. Refusing the second request with 409 would
need a consistent "is a job running on X" read, which visibility (eventually consistent) does not
give; queueing also lets a client fire its requests and let the platform order them.

The protocol:
- a job asks for its turn from an activity (`jobs.request_turn`) that updates-with-start the lock
  `lock-<subject>` (`acquire_turn`): the lock starts if it is not running, the request is queued,
  and the answer is the job's place, so a job on a free subject goes on at once (one round trip
  to the lock instead of a request, a signal back and a workflow task to read it; none at all
  for a job whose steps run locally, which asks by a local activity in its first workflow task);
- from then on the lock tells every queued job who it is queued behind and the head that it is its
  turn, by signalling it (`lock_turn`), whenever that changes; a job it cannot signal has ended,
  and is dropped (jobs recorded before the update asked by signal, `acquire`, still honoured);
- the job signals `release` when it ends, whatever the outcome, after its compensation; a job
  cancelled while it waits releases its place the same way;
- a holder that ends without releasing (terminated, timed out) is found by an activity that fails
  (benign) while the holder runs and is retried every `check_seconds`: the retry policy is the poll,
  so a long hold adds no history;
- the lock ends when nobody holds or waits (the next request's update-with-start brings it back),
  and continues as new when its history grows, so its history stays bounded.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError
from temporalio.workflow import ActivityCancellationType, ActivityHandle

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import JobSubject
    from contracts.resource_lock import (
        ACQUIRE_SIGNAL,
        ACQUIRE_UPDATE,
        HAND_OVER_UPDATE,
        LOCK_STATE_QUERY,
        LOCK_WORKFLOW,
        RELEASE_SIGNAL,
        TURN_SIGNAL,
        HandOver,
        JobRef,
        LockState,
        LockSteps,
        Turn,
        TurnRequest,
        lock_id,
    )

from workflows.steps import step, undoing
from workflows.tracking import JobTracker

# Well below Temporal's 50 000-event limit and its continue-as-new suggestion.
MAX_HISTORY_EVENTS = 2_000
# A waiting job asks again this often: a lock that was terminated by hand comes back, the job keeps
# its place otherwise (asking twice is harmless).
ASK_AGAIN = timedelta(minutes=5)


@workflow.defn(name=LOCK_WORKFLOW)
class ResourceLock:
    @workflow.init
    def __init__(self, state: LockState) -> None:
        self.state = state
        self._watch: ActivityHandle[None] | None = None
        self._watched: str | None = None

    @workflow.signal(name=ACQUIRE_SIGNAL)
    def acquire(self, ref: JobRef) -> None:
        if ref.job_id not in self._line():
            self.state.queue.append(ref.job_id)
            self._promote()
        else:
            # Asked again (a retried request, or a waiter checking the lock is alive): tell it again.
            self.state.told.pop(ref.job_id, None)

    @workflow.update(name=ACQUIRE_UPDATE)
    def acquire_turn(self, ref: JobRef) -> Turn:
        """`acquire`, answered: the job learns its place now, and hears by signal only of changes."""
        self.acquire(ref)
        behind = self._places().get(ref.job_id, [])
        self.state.told[ref.job_id] = behind
        return Turn(queued_behind=behind)

    @workflow.update(name=HAND_OVER_UPDATE)
    def hand_over(self, hand_over: HandOver) -> bool:
        """The successor takes the job's place when the job ends (before anyone queued behind it).
        False when the job neither holds nor waits (it has ended and was dropped): the successor
        then asks for a turn like any job."""
        state = self.state
        if hand_over.job_id != state.holder and hand_over.job_id not in state.queue:
            return False
        if hand_over.successor in state.queue:
            # It asked before the hand-over reached the lock.
            state.queue.remove(hand_over.successor)
        state.successors[hand_over.job_id] = hand_over.successor
        return True

    @workflow.signal(name=RELEASE_SIGNAL)
    def release(self, ref: JobRef) -> None:
        self._drop(ref.job_id)

    @workflow.query(name=LOCK_STATE_QUERY)
    def lock_state(self) -> LockState:
        return self.state

    @workflow.run
    async def run(self, state: LockState) -> None:
        while True:
            await self._tell_everyone()
            if self.state.holder is None:
                self._stop_watching()
                return
            info = workflow.info()
            if (
                info.is_continue_as_new_suggested()
                or info.get_current_history_length() > MAX_HISTORY_EVENTS
            ):
                self._stop_watching()
                workflow.continue_as_new(self.state)
            watch = self._watch_holder()
            await workflow.wait_condition(
                lambda watch=watch: watch.done() or self.state.holder is None or bool(self._news())
            )
            if watch.done() and self._watched == self.state.holder:
                self._watch = None
                if watch.exception() is None:
                    workflow.logger.info("holder %s ended without releasing", self.state.holder)
                    self._drop(self.state.holder)

    def _drop(self, job_id: str | None) -> None:
        state = self.state
        successor = state.successors.pop(job_id or "", None)
        # A successor that ended before its turn came gives up its place too.
        for job, heir in list(state.successors.items()):
            if heir == job_id:
                del state.successors[job]
        if state.holder == job_id:
            state.holder = successor
        elif job_id in state.queue:
            position = state.queue.index(job_id)
            if successor is None:
                del state.queue[position]
            else:
                state.queue[position] = successor
        state.told.pop(job_id or "", None)
        self._promote()

    def _promote(self) -> None:
        if self.state.holder is None and self.state.queue:
            self.state.holder = self.state.queue.pop(0)

    def _line(self) -> list[str]:
        """Every job holding or waiting, in turn order: the holder, then the queue, each job that
        handed its turn over followed by its successor."""
        state = self.state
        line: list[str] = []
        if state.holder is None:
            return line
        for job_id in [state.holder, *state.queue]:
            line.append(job_id)
            if job_id in state.successors:
                line.append(state.successors[job_id])
        return line

    def _places(self) -> dict[str, list[str]]:
        """Each job holding or waiting: the jobs ahead of it, holder first."""
        line = self._line()
        return {job_id: line[:position] for position, job_id in enumerate(line)}

    def _news(self) -> dict[str, list[str]]:
        """Who must hear what: each job its place, when that changed since it was told."""
        told = self.state.told
        return {job: behind for job, behind in self._places().items() if told.get(job) != behind}

    async def _tell_everyone(self) -> None:
        while news := self._news():
            reached = await asyncio.gather(
                *(self._tell(job, behind) for job, behind in news.items())
            )
            for (job_id, behind), ok in zip(news.items(), reached, strict=True):
                if job_id not in self._line():
                    continue  # released while it was being told
                if ok:
                    self.state.told[job_id] = behind
                else:
                    workflow.logger.info("job %s has ended: dropped from the lock", job_id)
                    self._drop(job_id)

    async def _tell(self, job_id: str, behind: list[str]) -> bool:
        try:
            handle = workflow.get_external_workflow_handle(job_id)
            await handle.signal(TURN_SIGNAL, Turn(queued_behind=behind))
            return True
        except FailureError:
            # Temporal refuses to signal a workflow that is not running: the job has ended.
            return False

    def _watch_holder(self) -> ActivityHandle[None]:
        if self._watch is not None and self._watched == self.state.holder:
            return self._watch
        self._stop_watching()
        self._watched = self.state.holder
        every = timedelta(seconds=self.state.check_seconds)
        self._watch = workflow.start_activity(
            LockSteps.HOLDER_ENDED,
            JobRef(job_id=self.state.holder or ""),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                initial_interval=every,
                backoff_coefficient=1.0,
                maximum_interval=every,
                maximum_attempts=0,
            ),
            cancellation_type=ActivityCancellationType.TRY_CANCEL,
        )
        return self._watch

    def _stop_watching(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            # Nobody awaits a cancelled watch: read its outcome so it is not reported as lost.
            self._watch.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._watch = self._watched = None


class SubjectTurn:
    """A job's side of the lock: ask for the turn, wait for it (showing who is ahead), give it back."""

    def __init__(self, tracker: JobTracker, subject: JobSubject, local: bool = False) -> None:
        self.tracker = tracker
        self.subject = subject
        self.granted = False
        # Ask by a local activity (TrackedJob.steps_run_locally).
        self.local = local

    def told(self, turn: Turn) -> None:
        if self.granted:
            return
        self.granted = turn.granted
        if turn.granted:
            self.tracker.waiting([], f"its turn on {self.subject.key}")
        else:
            ahead = turn.queued_behind
            self.tracker.waiting(ahead, f"queued behind {', '.join(ahead)} on {self.subject.key}")

    async def wait(self) -> None:
        request = TurnRequest(subject=self.subject.key, job_id=self.tracker.state.job_id)
        while True:
            turn = await step(
                LockSteps.REQUEST_TURN,
                request,
                Turn,
                start_to_close=timedelta(seconds=30),
                # The job's heartbeat timeout (the worker beats for this one call): a worker killed
                # during it hands the request on within seconds, not after the 30 s above. Local:
                # the workflow task's timeout does the same.
                local=self.local,
            )
            # None: recorded before the lock answered requests; the turn came by signal.
            if turn is not None:
                self.told(turn)
            try:
                if not self.granted:
                    await workflow.wait_condition(lambda: self.granted, timeout=ASK_AGAIN)
                return
            except TimeoutError:
                continue

    async def give_back(self) -> None:
        if self.tracker.state.queued_behind:
            self.tracker.waiting([], f"left the queue on {self.subject.key}")
        if self.local:
            release = asyncio.ensure_future(self._release_locally())
        else:
            lock = workflow.get_external_workflow_handle(lock_id(self.subject.key))
            release = asyncio.ensure_future(
                lock.signal(RELEASE_SIGNAL, JobRef(job_id=self.tracker.state.job_id))
            )
        try:
            try:
                await asyncio.shield(release)
            except asyncio.CancelledError:
                # A cancel now finds the work done or undone already: the release still goes out.
                await release
        except FailureError as error:
            # The lock is gone (terminated by hand): nobody waits on it for this job.
            self.tracker.log(f"could not release the lock on {self.subject.key}: {error}")

    async def _release_locally(self) -> None:
        """The same signal from a local activity, in the workflow task that ends the job, instead
        of a command whose outcome takes one more workflow task. Run to the end like compensation
        (a cancel that came meanwhile must not stop it)."""
        request = TurnRequest(subject=self.subject.key, job_id=self.tracker.state.job_id)
        with undoing():
            sent = await step(
                LockSteps.RELEASE_TURN,
                request,
                bool,
                start_to_close=timedelta(seconds=30),
                may_hold=False,
                local=True,
            )
        if not sent:
            self.tracker.log(f"could not release the lock on {self.subject.key}: it is gone")
