"""Builds the official Google Cloud clients from settings: the local cloud by default, real GCP in production."""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import logging as cloud_logging
from google.cloud import run_v2, secretmanager_v1

from core.settings import Settings, get_settings

T = TypeVar("T")


def _credentials(settings: Settings) -> Credentials | None:
    # None lets the libraries find Application Default Credentials in production.
    return None if settings.use_real_google_credentials else AnonymousCredentials()


def _options(settings: Settings, api: str) -> ClientOptions:
    return ClientOptions(api_endpoint=settings.endpoint_for(api))


def cloud_run_services_client(settings: Settings | None = None) -> run_v2.ServicesClient:
    settings = settings or get_settings()
    return _cached_services_client(
        settings.endpoint_for("run"), settings.use_real_google_credentials
    )


@lru_cache(maxsize=8)
def _cached_services_client(endpoint: str, real_credentials: bool) -> run_v2.ServicesClient:
    # The REST transport is the only one that reaches a loopback emulator; it is sync (no async REST).
    return run_v2.ServicesClient(
        transport="rest",
        credentials=None if real_credentials else AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=endpoint),
    )


def secret_manager_client(
    settings: Settings | None = None,
) -> secretmanager_v1.SecretManagerServiceClient:
    settings = settings or get_settings()
    return _cached_secret_client(
        settings.endpoint_for("secretmanager"), settings.use_real_google_credentials
    )


@lru_cache(maxsize=8)
def _cached_secret_client(
    endpoint: str, real_credentials: bool
) -> secretmanager_v1.SecretManagerServiceClient:
    return secretmanager_v1.SecretManagerServiceClient(
        transport="rest",
        credentials=None if real_credentials else AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=endpoint),
    )


def cloud_logging_client(settings: Settings | None = None) -> cloud_logging.Client:
    settings = settings or get_settings()
    return cloud_logging.Client(
        project=settings.gcp_project,
        credentials=_credentials(settings),
        client_options=_options(settings, "logging"),
        _use_grpc=False,
    )


def location_path(settings: Settings | None = None, region: str | None = None) -> str:
    settings = settings or get_settings()
    return f"projects/{settings.gcp_project}/locations/{region or settings.gcp_region}"


def service_path(name: str, settings: Settings | None = None, region: str | None = None) -> str:
    return f"{location_path(settings, region)}/services/{name}"


def rest_client(cls: type[T], api: str, settings: Settings | None = None) -> T:
    """Any GAPIC client over REST at the endpoint settings give `api` (one per endpoint, cached)."""
    settings = settings or get_settings()
    return _cached_rest_client(
        cls, settings.endpoint_for(api), settings.use_real_google_credentials
    )


@lru_cache(maxsize=16)
def _cached_rest_client(cls: type[T], endpoint: str, real_credentials: bool) -> T:
    return cls(
        transport="rest",
        credentials=None if real_credentials else AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=endpoint),
    )
