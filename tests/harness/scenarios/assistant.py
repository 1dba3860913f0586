"""The assistant system's scenarios (seed 002). Its jobs change only the platform's own rows (a
learned API and its operations, a conversation's messages), which the snapshot holds; the API they
learn and call is the harness's loopback one (tests/harness/documents.py), each case under a prefix
of its own, so a case counts its own tool calls there."""

from __future__ import annotations

import random
import string
from typing import TYPE_CHECKING

from contracts.assistant.names import Workflows as Assistant
from tests.harness.documents import DOCUMENT_PATH, calls
from tests.harness.platform import HarnessPlatform
from tests.harness.scenarios.base import Prepared, Scenario, finished, name, started

if TYPE_CHECKING:
    from tests.harness.cases import Outcome


def _letters(count: int = 10) -> str:
    """A name of letters only: the LLM emulator matches a message's words of letters with a
    tool's name, so the turn's message names the case's own learned tool by it."""
    return "h" + "".join(random.choices(string.ascii_lowercase, k=count - 1))  # noqa: S311


# LearnApi: the case's copy of the loopback API's document (three operations) learned under the
# case's name: its row and its operations' rows. One that fails or is cancelled leaves neither.
async def _prepare_learn(platform: HarnessPlatform) -> Prepared:
    return Prepared([_letters()])


async def _start_learn(platform: HarnessPlatform, prepared: Prepared) -> str:
    token = prepared.tokens[0]
    body = {
        "type": "openapi",
        "source": f"{platform.documents.url}/{token}{DOCUMENT_PATH}",
        "name": token,
    }
    return await started(await platform.api.post("/api/learned-apis", json=body))


# AssistantToolRun: `POST /api/tools/execute` of a read tool (`list_services`, which reads the
# platform's own route): the run's one step is the tool's call, it starts no job, and it writes
# nothing; one that fails or is cancelled leaves nothing either, and no job of its own running. (A
# changing tool starts, through its route, a job that has a scenario of its own.)
SCHEDULED = {"ObserveDrift", "JobReaper", "RunnerCleanup"}


async def _prepare_tool_run(platform: HarnessPlatform) -> Prepared:
    return Prepared([name("htool")])


async def _start_tool_run(platform: HarnessPlatform, prepared: Prepared) -> str:
    body = {"tool": "list_services", "parameters": {}}
    return await started(await platform.api.post("/api/tools/execute", json=body))


def _expect_tool_run(prepared: Prepared, outcome: Outcome) -> list[str]:
    """Whatever its end, the run left no job running (the Schedules' sweeps are not its)."""
    left = [job for job in outcome.left_running if job.split(" ", 1)[0] not in SCHEDULED]
    return [f"the tool run {outcome.status} and left jobs running: {left}"] if left else []


# AssistantTurn: `POST /api/chat` in a new conversation, asking for the case's learned API's
# widgets: the history read, the user's message saved, the LLM asked (it calls the case's
# `<name>__list_widgets`), the tool run (one call to the case's API), the LLM asked again, the
# answer saved with its tool call. One that fails or is cancelled may leave the user's message (the
# user did send it, as the conversation shows) but no answer: an answer of a turn that failed would
# claim what the turn did not finish. A killed worker's turn completes once: one answer, the tool
# called once.
USER_MESSAGE = "platform.assistant_messages user message"


async def _prepare_turn(platform: HarnessPlatform) -> Prepared:
    prepared = await _prepare_learn(platform)
    await finished(platform, await _start_learn(platform, prepared))
    made = await platform.api.post("/api/conversations", json={"title": prepared.tokens[0]})
    assert made.status_code == 201, made.text
    prepared.extra["conversation_id"] = made.json()["id"]
    server, prefix = platform.documents, f"/{prepared.tokens[0]}"
    prepared.extra["calls"] = lambda: calls(server, prefix)
    return prepared


async def _start_turn(platform: HarnessPlatform, prepared: Prepared) -> str:
    body = {
        "conversation_id": prepared.extra["conversation_id"],
        "message": f"list the {prepared.tokens[0]} widgets",
    }
    return await started(await platform.api.post("/api/chat", json=body))


def _expect_turn(prepared: Prepared, outcome: Outcome) -> list[str]:
    """The case's tool ran at most once, and exactly once when the turn completed."""
    count = prepared.extra["calls"]()
    if count > 1 or (outcome.status == "completed" and count != 1):
        return [f"the turn {outcome.status} and its tool was called {count} time(s)"]
    return []


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(Assistant.LEARN_API, "create", _prepare_learn, _start_learn),
    Scenario(
        Assistant.ASSISTANT_TOOL,
        "create",
        _prepare_tool_run,
        _start_tool_run,
        expect=_expect_tool_run,
    ),
    Scenario(
        Assistant.ASSISTANT_TURN,
        "create",
        _prepare_turn,
        _start_turn,
        expect=_expect_turn,
        may_leave=(USER_MESSAGE,),
    ),
)
