"""How every process reaches a secured Temporal cluster or Temporal Cloud: TLS (a CA of its own,
mutual TLS with a client certificate, another server name) and API-key auth, from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.service import TLSConfig

from core.settings import Settings


class TemporalSecurityError(ValueError):
    """The TLS settings cannot be used as they are (a file missing, a certificate without its key)."""


def _read(path: Path | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:
        raise TemporalSecurityError(f"cannot read {what} {path}: {error.strerror}") from None


def connection_options(settings: Settings) -> dict[str, Any]:
    """`tls` and `api_key` for `Client.connect`. TLS is on when asked for, or when a CA, a client
    certificate or an API key is set (Temporal Cloud needs it); off for the dev server."""
    cert, key = settings.temporal_tls_cert_file, settings.temporal_tls_key_file
    if (cert is None) != (key is None):
        raise TemporalSecurityError(
            "mutual TLS needs both CONNESKILLS_TEMPORAL_TLS_CERT_FILE and "
            "CONNESKILLS_TEMPORAL_TLS_KEY_FILE"
        )
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    wanted = settings.temporal_tls
    if wanted is None:
        wanted = bool(settings.temporal_tls_ca_file or cert or api_key)
    if not wanted:
        return {"tls": False, "api_key": api_key}
    tls = TLSConfig(
        server_root_ca_cert=_read(settings.temporal_tls_ca_file, "the Temporal CA file"),
        client_cert=_read(cert, "the Temporal client certificate"),
        client_private_key=_read(key, "the Temporal client key"),
        domain=settings.temporal_tls_server_name,
    )
    return {"tls": tls, "api_key": api_key}
