"""The oversight workflows (issue 10), collected by `worker.py`."""

from workflows.oversight.reaper import JobReaper

WORKFLOWS = [JobReaper]
