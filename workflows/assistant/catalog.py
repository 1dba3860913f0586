"""The ops assistant's workflows the worker registers."""

from workflows.assistant.turn import AssistantTurn

WORKFLOWS = [AssistantTurn]
