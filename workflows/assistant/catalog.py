"""The ops assistant's workflows the worker registers."""

from workflows.assistant.tool_run import AssistantToolRun
from workflows.assistant.turn import AssistantTurn

WORKFLOWS = [AssistantTurn, AssistantToolRun]
