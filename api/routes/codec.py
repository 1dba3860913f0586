"""Remote codec endpoint for the Temporal Web UI (`--ui-codec-endpoint`): decrypts and encrypts
payloads with the platform's key so an operator can read job inputs and results in the UI.

Who may call it: an API key with the `secrets` scope (the UI can forward one as a Bearer token), or,
when `codec_allow_loopback` is on (the `make run` default), any caller on this machine, which is
what the dev server's UI in a local browser is.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import Depends, Request
from pydantic import ConfigDict, Field
from temporalio.api.common.v1 import Payload

from api.auth import current_principal
from api.deps import SettingsDep
from api.errors import ApiError, answers
from api.http import JsonRouter
from api.schemas.base import RequestModel
from temporal.codec import EncryptionCodec

# Auth is checked by `_authorised` (loopback or a key), not a security scheme, so it is declared.
router = JsonRouter(prefix="/codec", tags=["codec"], responses=answers(401, 403, 404))
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


# The Web UI sends Temporal's Payload JSON, which may grow fields; unknown ones are ignored.
class WirePayload(RequestModel):
    model_config = ConfigDict(extra="ignore")

    metadata: dict[str, str] = Field(default_factory=dict, max_length=64)
    data: str = ""


class WirePayloads(RequestModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "payloads": [
                        {"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "eyJhIjoxfQ=="}
                    ]
                }
            ]
        },
    )

    payloads: list[WirePayload] = Field(max_length=1000)


async def _authorised(request: Request, settings: SettingsDep) -> None:
    client = request.client.host if request.client else ""
    if settings.codec_allow_loopback and client in LOOPBACK:
        return
    principal = await current_principal(request)
    if not principal.has("secrets"):
        raise ApiError(403, "the codec endpoint needs the 'secrets' scope")


def _codec(settings: SettingsDep) -> EncryptionCodec:
    if not settings.codec_key:
        raise ApiError(404, "payload encryption is not configured")
    return EncryptionCodec(settings.codec_key)


def _to_proto(payloads: WirePayloads) -> list[Payload]:
    try:
        return [
            Payload(
                metadata={k: base64.b64decode(v, validate=True) for k, v in p.metadata.items()},
                data=base64.b64decode(p.data, validate=True),
            )
            for p in payloads.payloads
        ]
    except ValueError:
        raise ApiError(400, "payload metadata and data must be base64") from None


def _to_wire(payloads: list[Payload]) -> WirePayloads:
    return WirePayloads(
        payloads=[
            WirePayload(
                metadata={k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                data=base64.b64encode(p.data).decode(),
            )
            for p in payloads
        ]
    )


Authorised = Annotated[None, Depends(_authorised)]


@router.post("/decode", response_model=WirePayloads)
async def decode(body: WirePayloads, _: Authorised, settings: SettingsDep) -> WirePayloads:
    try:
        return _to_wire(await _codec(settings).decode(_to_proto(body)))
    except ApiError:
        raise
    except Exception:  # a payload sealed with another key, or tampered with
        raise ApiError(400, "payloads could not be decrypted with this platform's key") from None


@router.post("/encode", response_model=WirePayloads)
async def encode(body: WirePayloads, _: Authorised, settings: SettingsDep) -> WirePayloads:
    return _to_wire(await _codec(settings).encode(_to_proto(body)))
