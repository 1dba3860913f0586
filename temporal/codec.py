"""AES-GCM payload codec: every payload in workflow history is encrypted with the platform's key."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_HEADER = "encryption-key-id"


def decode_key(key_b64: str) -> bytes:
    key = base64.b64decode(key_b64)
    if len(key) != 32:
        raise ValueError("the codec key must be 32 bytes, base64-encoded")
    return key


def generate_key() -> str:
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


class EncryptionCodec(PayloadCodec):
    def __init__(self, key_b64: str, key_id: str = "default") -> None:
        self._aead = AESGCM(decode_key(key_b64))
        self._key_id = key_id

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encode_one(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(self.decode_many(payloads))

    def encode_one(self, payload: Payload) -> Payload:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_HEADER: self._key_id.encode()},
            data=nonce + sealed,
        )

    def decode_many(self, payloads: Iterable[Payload]) -> Iterable[Payload]:
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                # Payloads written before encryption was enabled stay readable.
                yield payload
                continue
            decrypted = self._aead.decrypt(payload.data[:12], payload.data[12:], None)
            yield Payload.FromString(decrypted)
