"""The `POST /service` form, read as it streams: text fields (bounded, counted) and one file, the
`zip_file`, written straight to the uploads directory and counted against the upload bound (413
beyond it). Whatever refuses the request removes the partial file, so nothing of it stays on disk.
The file is `upload-<random>.zip.part` while the body streams and is renamed to `….zip` once it has
ended: a process that dies mid-upload leaves only a `.part`, which the uploads sweep removes once
stale (api/logic/hosting/upload_sweep.py). The body-limit middleware lets this one route through
unbuffered (api/http.py)."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from api.errors import ApiError
from api.http import FORM_MEDIA_TYPES

FILE_FIELD = "zip_file"
# Text fields: how many, and how long each may be (a git URL, a password, a list of types).
MAX_FIELDS = 32
MAX_FIELD_BYTES = 4096
# An upload still streaming (or whose process died mid-body): the uploads sweep's to remove.
PARTIAL_SUFFIX = ".part"
_REPEATABLE = {"service_types"}


@dataclass
class ServiceForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    upload: Path | None = None
    upload_bytes: int = 0
    upload_sha256: str | None = None

    def discard(self) -> None:
        if self.upload is not None:
            self.upload.unlink(missing_ok=True)
            self.upload = None


class _TooLarge(Exception):
    pass


def _bad(message: str, name: str = "body") -> ApiError:
    return ApiError(
        400,
        f"invalid request: {message}",
        code="validation_error",
        details={"fields": [{"field": name, "message": message}]},
    )


async def read_form(request: Request, uploads: Path, max_upload: int) -> ServiceForm:
    """The parsed form; on any refusal (400, 413, 415, a client gone) nothing is left on disk."""
    media, params = parse_options_header(request.headers.get("content-type", ""))
    media_type = media.decode("latin-1").lower()
    if media_type not in FORM_MEDIA_TYPES:
        raise ApiError(
            415,
            "the request body must be a form (multipart/form-data or "
            f"application/x-www-form-urlencoded), not {media_type or 'no Content-Type'}",
            details={"content_type": media_type or None},
        )
    form = ServiceForm()
    try:
        if media_type == "application/x-www-form-urlencoded":
            await _urlencoded(request, form)
        else:
            boundary = params.get(b"boundary")
            if not boundary:
                raise _bad("the multipart body has no boundary")
            await _multipart(request, form, boundary, uploads, max_upload)
    except _TooLarge:
        form.discard()
        raise _too_large(max_upload) from None
    except ClientDisconnect:
        form.discard()
        raise ApiError(400, "the client went away before the body ended") from None
    except BaseException:
        form.discard()
        raise
    return form


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"the request body is larger than {limit} bytes",
        code="payload_too_large",
        details={"limit_bytes": limit},
        headers={"Connection": "close"},
    )


def _add(form: ServiceForm, name: str, value: str) -> None:
    if sum(len(v) for v in form.fields.values()) >= MAX_FIELDS:
        raise _bad(f"more than {MAX_FIELDS} form fields")
    values = form.fields.setdefault(name, [])
    if values and name not in _REPEATABLE:
        raise _bad(f"form field {name!r} is given more than once", name)
    values.append(value)


async def _urlencoded(request: Request, form: ServiceForm) -> None:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FIELDS * MAX_FIELD_BYTES:
            raise _bad("the form is too long")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise _bad("the form is not UTF-8") from None
    for name, value in pairs:
        if name == FILE_FIELD:
            raise _bad("zip_file must be sent as a file (multipart/form-data)", FILE_FIELD)
        if len(value.encode()) > MAX_FIELD_BYTES:
            raise _bad(f"longer than {MAX_FIELD_BYTES} bytes", name)
        _add(form, name, value)


class _Part:
    def __init__(self) -> None:
        self.headers: dict[str, bytes] = {}
        self.header_field = b""
        self.header_value = b""
        self.name: str | None = None
        self.is_file = False
        self.text = bytearray()
        self.fd: int | None = None


async def _multipart(
    request: Request, form: ServiceForm, boundary: bytes, uploads: Path, max_upload: int
) -> None:
    parts: list[_Part] = []
    digest = hashlib.sha256()
    problems: list[ApiError] = []

    def current() -> _Part:
        return parts[-1]

    def on_part_begin() -> None:
        parts.append(_Part())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current().header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        current().header_value += data[start:end]

    def on_header_end() -> None:
        part = current()
        part.headers[part.header_field.decode("latin-1").lower()] = part.header_value
        part.header_field, part.header_value = b"", b""

    def on_headers_finished() -> None:
        part = current()
        _, options = parse_options_header(part.headers.get("content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            problems.append(_bad("a form part has no name"))
            return
        part.name = name.decode("utf-8", "replace")
        part.is_file = b"filename" in options
        if part.name == FILE_FIELD:
            if form.upload is not None:
                problems.append(_bad("zip_file is given more than once", FILE_FIELD))
                return
            uploads.mkdir(parents=True, exist_ok=True, mode=0o750)
            target = uploads / f"upload-{secrets.token_hex(12)}.zip{PARTIAL_SUFFIX}"
            part.fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            form.upload = target
        elif part.is_file:
            problems.append(_bad(f"only zip_file may be a file, not {part.name!r}", part.name))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = current()
        chunk = data[start:end]
        if part.fd is not None:
            form.upload_bytes += len(chunk)
            if form.upload_bytes > max_upload:
                raise _TooLarge
            digest.update(chunk)
            os.write(part.fd, chunk)
        elif not problems:
            part.text += chunk
            if len(part.text) > MAX_FIELD_BYTES:
                problems.append(_bad(f"longer than {MAX_FIELD_BYTES} bytes", part.name or "body"))

    def on_part_end() -> None:
        part = current()
        if part.fd is not None:
            os.close(part.fd)
            part.fd = None
        elif part.name is not None and not problems:
            try:
                _add(form, part.name, part.text.decode("utf-8"))
            except UnicodeDecodeError:
                problems.append(_bad("not UTF-8", part.name))
            except ApiError as error:
                problems.append(error)

    parser = MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except (_TooLarge, ClientDisconnect):
        raise
    except Exception:
        problems.append(_bad("the multipart body is malformed"))
    finally:
        for part in parts:
            if part.fd is not None:
                os.close(part.fd)
                part.fd = None
    if problems:
        raise problems[0]
    if form.upload is not None:
        form.upload_sha256 = digest.hexdigest()
        complete = form.upload.with_name(form.upload.name.removesuffix(PARTIAL_SUFFIX))
        try:
            os.rename(form.upload, complete)
        except FileNotFoundError:
            # Swept meanwhile: the body stalled for longer than the sweep's threshold.
            form.upload = None
            raise _bad("the upload stalled and was discarded; send it again", FILE_FIELD) from None
        form.upload = complete
