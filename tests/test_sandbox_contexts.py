"""The worker's sandbox answers its payloads' serialization and store contexts for the workflow as
a whole (temporal/sandbox.py), which holds only while no payload's encoding depends on them: the
codec encrypts every payload alike and no external storage is configured."""

from __future__ import annotations

from temporalio.converter import WithSerializationContext

from core.settings import Settings
from temporal.client import data_converter
from temporal.codec import EncryptionCodec
from tests.helpers.platform import CODEC_KEY


def test_the_codec_ignores_serialization_contexts_and_nothing_is_stored_outside():
    converter = data_converter(Settings(codec_key=CODEC_KEY))
    assert isinstance(converter.payload_codec, EncryptionCodec)
    assert not isinstance(converter.payload_codec, WithSerializationContext)
    assert getattr(converter, "external_storage", None) is None
