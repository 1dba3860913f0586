"""The ops assistant's workflows the worker registers."""

from workflows.assistant.learn import LearnApi
from workflows.assistant.tool_run import AssistantToolRun
from workflows.assistant.turn import AssistantTurn
from workflows.assistant.webhook import WebhookDelivery

WORKFLOWS = [AssistantTurn, AssistantToolRun, LearnApi, WebhookDelivery]
