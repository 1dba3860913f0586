"""The hosting workflows the worker registers."""

from workflows.hosting.services import ControlDockerService, CreateDockerService

WORKFLOWS = [CreateDockerService, ControlDockerService]
