"""Outside-API failures as API errors: one mapping of Google's exceptions (and dead connections) to
404/400/502/503, for every synchronous read the API makes through a provider."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import requests
from google.api_core import exceptions as gexc

from api.errors import ApiError
from contracts.jobs import without_endpoints

T = TypeVar("T")


def _said(error: gexc.GoogleAPICallError) -> str:
    """What the outside API said, without the endpoint the client called (internal in dev)."""
    return without_endpoints(str(error.message or ""))


@contextmanager
def upstream(what: str) -> Iterator[None]:
    try:
        yield
    except gexc.NotFound as error:
        raise ApiError(404, f"{what}: not found", details={"upstream": _said(error)}) from None
    except gexc.BadRequest as error:
        # Over REST the class comes from the HTTP status: InvalidArgument arrives as BadRequest.
        raise ApiError(400, f"{what}: {_said(error)}") from None
    except (gexc.ServiceUnavailable, gexc.TooManyRequests, gexc.DeadlineExceeded) as error:
        raise ApiError(
            503, f"{what}: upstream unavailable, retry later", details={"upstream": _said(error)}
        ) from None
    except (requests.RequestException, ConnectionError, TimeoutError) as error:
        # The endpoint did not answer at all (refused, reset, timed out).
        raise ApiError(
            503,
            f"{what}: upstream unavailable, retry later",
            details={"upstream": type(error).__name__},
        ) from None
    except gexc.GoogleAPICallError as error:
        raise ApiError(502, f"{what}: upstream error", details={"upstream": _said(error)}) from None


async def call_cloud(what: str, fn: Callable[..., T], *args, **kwargs) -> T:
    """One blocking client call in a thread, its failures mapped by `upstream`."""
    with upstream(what):
        return await asyncio.to_thread(fn, *args, **kwargs)
