"""structlog set-up shared by the API, the worker and the local cloud: JSON lines on stderr."""

from __future__ import annotations

import logging
import sys
import warnings

import structlog

_configured = False

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


def _temporal_sdk_context(_logger, _method, event_dict: dict) -> dict:
    """The Temporal SDK's own log records carry the activity/workflow info as an `extra` dict;
    surface its workflow id as job_id so those lines are traceable like ours."""
    record = event_dict.get("_record")
    info = getattr(record, "temporal_activity", None) or getattr(record, "temporal_workflow", None)
    if isinstance(info, dict) and info.get("workflow_id"):
        event_dict.setdefault("job_id", info["workflow_id"])
        event_dict.setdefault("workflow_id", info["workflow_id"])
    return event_dict


def configure_logging(level: int = logging.INFO) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
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
