"""The oversight workflows the worker registers."""

from workflows.oversight.reaper import JobReaper

WORKFLOWS = [JobReaper]
