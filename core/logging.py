"""structlog set-up shared by the API, the worker and the local cloud: JSON lines on stderr."""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings

import structlog
import temporalio.runtime
from opentelemetry import trace
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

_configured = False

# Temporal's Rust core writes its own log lines straight to stderr unless they are forwarded to a
# Python logger; forwarded, they become JSON lines like everything else and can be filtered.
TEMPORAL_CORE_LOGGER = "temporalio.core"
# Where the Temporal SDK's messages about activity completion come from.
TEMPORAL_ACTIVITY_LOGGERS = (
    TEMPORAL_CORE_LOGGER,
    "temporalio.activity",
    "temporalio.worker._activity",
)

# Keys whose values are never written, whatever logs them.
_REDACTED_KEYS = {"value", "password", "api_key", "x-api-key", "authorization", "secret_value"}


class _CurrentStderr:
    """Writes to whatever sys.stderr is now: test runners and daemonisers swap it after start-up."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _redact(_logger, _method, event_dict: dict) -> dict:
    for key in list(event_dict):
        if key.lower() in _REDACTED_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


def _trace_context(_logger, _method, event_dict: dict) -> dict:
    """The active span's ids (core/tracing.py), so a log line leads to its trace and back. With
    tracing off there is never an active span: one context-variable read, nothing added."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


def _temporal_sdk_context(_logger, _method, event_dict: dict) -> dict:
    """The Temporal SDK's own log records carry the activity/workflow info as an `extra` dict;
    surface its workflow id as job_id so those lines are traceable like ours."""
    record = event_dict.get("_record")
    info = getattr(record, "temporal_activity", None) or getattr(record, "temporal_workflow", None)
    if isinstance(info, dict) and info.get("workflow_id"):
        event_dict.setdefault("job_id", info["workflow_id"])
        event_dict.setdefault("workflow_id", info["workflow_id"])
    return event_dict


class DowngradeExpected(logging.Filter):
    """Turns the records of `logger` that contain one of `messages` into DEBUG records.

    For expected, harmless messages a library logs as warnings. Attach it to the logger that
    emits them (a logger's filters do not see its children's records): the record is re-levelled
    and then passed on only when that logger is enabled for DEBUG.
    """

    def __init__(self, logger: logging.Logger, *messages: str) -> None:
        super().__init__()
        self.logger = logger
        self.messages = messages

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG:
            return True
        text = record.getMessage()
        if not any(message in text for message in self.messages):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return self.logger.isEnabledFor(logging.DEBUG)


# After a dev-server restart (or an activity timeout) the server no longer knows an activity
# the worker was still running; when it finishes, the SDK warns that its completion found no
# task. The server has already retried or failed that attempt, so this is expected: debug.
ACTIVITY_GONE = "Activity not found on completion"


def quiet_expected_temporal_messages() -> None:
    """Downgrade the Temporal SDK's expected messages to debug (idempotent)."""
    for name in TEMPORAL_ACTIVITY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DowngradeExpected) for f in logger.filters):
            logger.addFilter(DowngradeExpected(logger, ACTIVITY_GONE))


def forward_temporal_core_logs() -> None:
    """Make the default Temporal runtime forward its core's warnings to `temporalio.core`.

    For the worker only, which also ends its process with `os._exit` once it has shut down: the
    core's forwarding thread calling into an interpreter that is finalizing aborts the process
    ("PyGILState_Release"), so the interpreter must never finalize with that thread alive.

    Only when no default runtime exists yet (clients and workers created before keep theirs):
    call before connecting. Same filter as the SDK's default (core WARN, other crates ERROR).
    """
    if getattr(temporalio.runtime._runtime_ref, "_default_runtime", None) is not None:
        return  # don't build a runtime only to drop it
    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger(TEMPORAL_CORE_LOGGER)),
            )
        )
    )
    with contextlib.suppress(RuntimeError):  # set meanwhile: its logging stays as it was
        Runtime.set_default(runtime, error_if_already_set=True)


def configure_logging(level: int = logging.INFO) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _trace_context,
        _redact,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, _temporal_sdk_context],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log would print query strings and paths only; keep it, but route through JSON.
    # A logger uvicorn has switched off (`--no-access-log`: no handlers, no propagation) stays off.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not logger.handlers and not logger.propagate:
            continue
        logger.handlers[:] = []
        logger.propagate = True
    quiet_expected_temporal_messages()


# The workflow sandbox's import notices: they name modules that the sandbox re-imports or passes
# through, which is expected for this platform's workflows (contracts and client libraries are
# passed through on purpose) and says nothing an operator can act on.
_SANDBOX_NOTICES = (
    r"Module .* was not intentionally passed through to the sandbox",
    r"Module .* was imported after initial workflow load",
)


def quiet_sandbox_warnings() -> None:
    """Hides the Temporal workflow sandbox's known import notices (the worker calls it)."""
    for message in _SANDBOX_NOTICES:
        warnings.filterwarnings("ignore", message=message, category=UserWarning)
