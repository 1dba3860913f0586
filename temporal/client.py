"""Temporal client factory: the pydantic data converter with the encryption codec, from settings."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio.client import Client, Interceptor, OutboundInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RetryConfig, RPCError, RPCStatusCode

from core import tracing
from core.settings import Settings, get_settings
from temporal.codec import EncryptionCodec
from temporal.security import connection_options

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

# How long the API's client retries a server that refuses or drops connections: long enough for a
# blip, short enough that the caller gets its 503 (the client's default is 10 s per call).
_API_RETRY_MILLIS = 1000
_UNREACHABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}
_TIMED_OUT = "Timeout expired"
# The client calls the API makes; each gets the API's RPC timeout unless the caller set one.
_BOUNDED_CALLS = (
    "start_workflow",
    "describe_workflow",
    "query_workflow",
    "signal_workflow",
    "cancel_workflow",
    "terminate_workflow",
    "list_workflows",
    "count_workflows",
)


class MissingCodecKey(RuntimeError):
    pass


def data_converter(settings: Settings | None = None) -> DataConverter:
    """Every payload is encrypted: without a key there is no converter, never a plain one (a process
    finds its key with `core.local_keys.with_local_keys` first)."""
    settings = settings or get_settings()
    if not settings.codec_key:
        raise MissingCodecKey("no payload codec key in the settings; refusing to run unencrypted")
    return dataclasses.replace(
        pydantic_data_converter, payload_codec=EncryptionCodec(settings.codec_key)
    )


async def connect(
    settings: Settings | None = None,
    *,
    lazy: bool = False,
    fail_fast: bool = False,
    runtime: Runtime | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Client:
    """`lazy` defers the first connection, so the API starts (and /health reports) while Temporal is down.

    `fail_fast` is for a caller with someone waiting (the API): connecting and each call are
    bounded by `temporal_api_timeout_seconds`, the client's retries of an unreachable server by
    `_API_RETRY_MILLIS`. A worker keeps the client's patient defaults. `runtime`: the worker's,
    which exports the SDK's metrics (temporal/metrics.py); None: the SDK's default runtime.

    Tracing (core/tracing.py) is wired here, for the API and the worker alike: with a provider
    (`tracer_provider`, else the process' own from settings) the client carries Temporal's
    TracingInterceptor, which puts the caller's span in each workflow start's headers; every
    Worker built on this client inherits it and continues that trace in `RunWorkflow` and
    `RunActivity` spans. Without one, no interceptor at all."""
    settings = settings or get_settings()
    interceptors: list[Interceptor] = []
    provider = tracer_provider or tracing.tracer_provider(settings, tracing.WORKER)
    if provider is not None:
        from temporalio.contrib.opentelemetry import TracingInterceptor

        interceptors.append(TracingInterceptor(provider.get_tracer(__name__)))
    options: dict[str, Any] = {}
    if fail_fast:
        timeout = timedelta(seconds=settings.temporal_api_timeout_seconds)
        options = {
            "connect_timeout": timeout,
            "retry_config": RetryConfig(
                max_interval_millis=500,
                max_elapsed_time_millis=_API_RETRY_MILLIS,
                max_retries=5,
            ),
        }
        interceptors.append(_RpcTimeout(timeout))
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        lazy=lazy,
        interceptors=interceptors,
        **({"runtime": runtime} if runtime is not None else {}),
        **connection_options(settings),
        **options,
    )


def unreachable(error: BaseException) -> bool:
    """Whether a client call failed because the server could not be reached in time."""
    if isinstance(error, RPCError):
        # A call past its `rpc_timeout` (temporal_api_timeout_seconds) ends CANCELLED with the
        # SDK's "Timeout expired", not DEADLINE_EXCEEDED: seen from a loaded dev server.
        timed_out = error.status == RPCStatusCode.CANCELLED and error.message == _TIMED_OUT
        return error.status in _UNREACHABLE or timed_out
    # What a lazy client that has not connected yet raises, on every call, while it cannot.
    return isinstance(error, RuntimeError) and str(error).startswith("Failed client connect")


class _RpcTimeout(Interceptor):
    def __init__(self, timeout: timedelta) -> None:
        self.timeout = timeout

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _BoundedCalls(next, self.timeout)


class _BoundedCalls(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, timeout: timedelta) -> None:
        super().__init__(next)
        self.timeout = timeout


def _bounded(name: str):
    def call(self: _BoundedCalls, input: Any) -> Any:
        if input.rpc_timeout is None:
            input.rpc_timeout = self.timeout
        return getattr(self.next, name)(input)

    call.__name__ = name
    return call


for _name in _BOUNDED_CALLS:
    setattr(_BoundedCalls, _name, _bounded(_name))
