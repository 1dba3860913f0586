"""Temporal client factory: the pydantic data converter with the encryption codec, from settings."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from core.settings import Settings, get_settings
from temporal.codec import EncryptionCodec


def data_converter(settings: Settings | None = None) -> DataConverter:
    settings = settings or get_settings()
    if not settings.codec_key:
        return pydantic_data_converter
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
