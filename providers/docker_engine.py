"""The Docker Engine through the official `docker` SDK: one client per process, built from settings
(`tcp://` to the local cloud, `unix:///var/run/docker.sock` in production), and its errors mapped
to Temporal failures. Blocking: call it from a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from temporalio.exceptions import ApplicationError

from contracts.jobs import without_endpoints
from core.settings import Settings

_clients: dict[tuple[str, str], docker.DockerClient] = {}
_lock = threading.Lock()


def client(settings: Settings) -> docker.DockerClient:
    """Built once per daemon: with version "auto" construction asks the daemon (GET /version)."""
    key = (settings.resolved_docker_base_url, settings.docker_api_version)
    with _lock:
        if key not in _clients:
            with as_temporal_failures("connecting to the Docker daemon"):
                _clients[key] = docker.DockerClient(base_url=key[0], version=key[1], timeout=30)
        return _clients[key]


@contextmanager
def as_temporal_failures(what: str) -> Iterator[None]:
    """A 4xx the daemon answered is final (the request is wrong); no answer or a 5xx is retried."""
    try:
        yield
    except (NotFound, ImageNotFound) as error:
        raise ApplicationError(
            f"{what}: {without_endpoints(str(error.explanation or error))}",
            type="NotFound",
            non_retryable=True,
        ) from None
    except APIError as error:
        status = error.status_code or 0
        message = f"{what}: {without_endpoints(str(error.explanation or error))}"
        if 400 <= status < 500 and status not in (408, 429):
            raise ApplicationError(message, type="DockerRejected", non_retryable=True) from None
        raise ApplicationError(message, type="DockerUnavailable") from None
    except (requests.exceptions.RequestException, DockerException) as error:
        reason = "timed out" if "timed out" in str(error).lower() else "connection failed"
        raise ApplicationError(
            f"{what}: the Docker daemon did not answer ({reason})", type="DockerUnavailable"
        ) from None
