"""Compensation for multi-step workflows: undo steps registered before each step, run in reverse."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import CompensationEntry, without_endpoints

from workflows.steps import undoing
from workflows.tracking import JobTracker


class Saga:
    def __init__(self, tracker: JobTracker) -> None:
        self._tracker = tracker
        self._undos: list[tuple[str, Callable[[], Awaitable[object]], str]] = []
        # What each undo that ran did, in the order they ran (the job's compensation report).
        self.report: list[CompensationEntry] = []

    def on_failure(self, description: str, undo: Callable[[], Awaitable[object]]) -> None:
        """Registers `undo` *before* its step runs, so a step cancelled half-way is undone too."""
        self._undos.append((description, undo, "ok"))

    def keeps(self, description: str, record: Callable[[], Awaitable[object]]) -> None:
        """Registers, *before* its step runs, a change that has no undo: compensation leaves it and
        reports it as `kept` (`record` brings what describes it, a row, in line with what is left;
        a failed one is reported `failed`, as any undo)."""
        self._undos.append((description, record, "kept"))

    async def compensate(self) -> list[str]:
        """Runs every undo, newest first; an undo that fails is reported, the others still run."""
        problems: list[str] = []
        while self._undos:
            description, undo, done = self._undos.pop()
            self._tracker.log(f"compensating: {description}")
            try:
                with undoing():
                    await undo()
            except (ActivityError, ApplicationError) as error:
                message = f"compensation '{description}' failed: {failure_message(error)}"
                self._tracker.log(message)
                problems.append(message)
                self.report.append(
                    CompensationEntry(
                        step=description, status="failed", error=failure_message(error)
                    )
                )
            else:
                self.report.append(CompensationEntry(step=description, status=done))
        return problems


def failure_message(error: BaseException) -> str:
    """The innermost message of a Temporal failure chain (what actually went wrong), without any
    endpoint a library put in it."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return without_endpoints(str(getattr(error, "message", None) or error))
