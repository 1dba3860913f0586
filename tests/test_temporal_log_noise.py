"""`core.logging` turns the Temporal SDK's expected "Activity not found on completion" warning into
a debug record (issue 7, item 16), and lets every other warning through."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from temporalio.runtime import LogForwardingConfig

from core.logging import (
    TEMPORAL_ACTIVITY_LOGGERS,
    TEMPORAL_CORE_LOGGER,
    quiet_expected_temporal_messages,
)

GONE = (
    "Activity not found on completion. This may happen if the activity has already been "
    "cancelled but completed anyway."
)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[_Capture]:
    quiet_expected_temporal_messages()
    handler = _Capture()
    loggers = [logging.getLogger(name) for name in TEMPORAL_ACTIVITY_LOGGERS]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
        lg.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        for lg, (level, propagate) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = propagate


@pytest.mark.parametrize("name", TEMPORAL_ACTIVITY_LOGGERS)
def test_activity_gone_is_debug_other_warnings_stay(captured, name):
    logger = logging.getLogger(name)
    logger.warning(GONE)
    logger.warning("Failed completing activity task")
    assert [(r.levelname, r.getMessage()) for r in captured.records] == [
        ("WARNING", "Failed completing activity task")
    ]

    logger.setLevel(logging.DEBUG)
    logger.warning(GONE)
    assert (captured.records[-1].levelname, captured.records[-1].levelno) == ("DEBUG", 10)


@dataclass
class _CoreLog:
    """What Temporal's core hands the Python log forwarder (a BufferedLogEntry)."""

    message: str
    level: int = logging.WARNING
    target: str = "temporalio_sdk_core::worker::activities"
    time: float = field(default_factory=time.time)
    fields: dict = field(default_factory=dict)


def test_forwarded_core_warning_is_filtered(captured):
    # The message comes from the Rust core; configure_logging forwards core logs to this logger.
    forward = LogForwardingConfig(logger=logging.getLogger(TEMPORAL_CORE_LOGGER))
    forward._on_logs(
        [
            _CoreLog(GONE, fields={"task_token": "TaskToken(abc)"}),
            _CoreLog("Error polling for activity task", target="temporalio_sdk_core::pollers"),
        ]
    )
    assert len(captured.records) == 1
    assert captured.records[0].levelname == "WARNING"
    assert "Error polling for activity task" in captured.records[0].getMessage()
