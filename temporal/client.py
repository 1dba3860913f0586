"""Temporal client factory: the pydantic data converter with the encryption codec, from settings."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from core.settings import Settings, get_settings
from temporal.codec import EncryptionCodec


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


async def connect(settings: Settings | None = None, *, lazy: bool = False) -> Client:
    """`lazy` defers the first connection, so the API starts (and /health reports) while Temporal is down."""
    settings = settings or get_settings()
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        lazy=lazy,
    )
