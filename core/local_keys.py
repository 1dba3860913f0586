"""The generated keys every process finds under the data dir: the codec key, the admin API key, and
the assistant console's token-signing key and first admin password.

Each process (the launcher, the worker, the API, `make admin-key`) resolves them itself with
`with_local_keys(settings)`, so a worker or an API started by hand encrypts with the same key as the
rest of the platform: a setting (`CONNESKILLS_CODEC_KEY`, `CONNESKILLS_ADMIN_API_KEY`) wins, else the
file under the data dir is read, else the first process that needs it creates it. Creation is
race-safe: the key is written to a private temporary file and hard-linked into place, which fails
when another process got there first, and then the winner's file is read; a reader never sees a
half-written key. When a key can be neither read nor created, `LocalKeyError` says why in one line
and the process refuses to start: the platform never runs unencrypted by accident.

Why this lives in core/ (which holds settings and logging only): the generated keys are settings
whose value happens to be kept in a file, and every process resolves its settings from core. So
that core depends on nothing above it (store/, temporal/), the random material is made here with
`secrets`, in the formats the consumers check: the codec key is 32 random bytes, base64-encoded
(what `temporal.codec.decode_key` accepts, and checked here the same way so a bad file is refused
at start-up, not at the first payload), and an API key is `csk_` + 43 URL-safe characters;
`store.api_keys.generate_key` uses `new_api_key` below, so both kinds of API key look alike.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from core.settings import Settings

API_KEY_PREFIX = "csk_"
CODEC_KEY_FILE = "codec_key"
ADMIN_KEY_FILE = "admin_api_key"
CONSOLE_JWT_KEY_FILE = "assistant_jwt_key"
CONSOLE_PASSWORD_FILE = "assistant_admin_password"


class LocalKeyError(RuntimeError):
    """A generated key can be neither read nor created; the message is one line for the operator."""


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def new_codec_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def check_codec_key(value: str, where: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise LocalKeyError(f"the codec key in {where} is not 32 bytes, base64-encoded")
    return value


def _read(path: Path) -> str:
    try:
        value = path.read_text().strip()
    except PermissionError:
        raise LocalKeyError(f"cannot read {path}: permission denied") from None
    except OSError as error:
        raise LocalKeyError(f"cannot read {path}: {error.strerror or error}") from None
    if not value:
        raise LocalKeyError(f"{path} is empty")
    return value


def _write_private(directory: Path, value: str) -> str:
    """A temporary owner-only file holding `value`, fully written; its path is returned."""
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary


def load_or_create(path: Path, make: Callable[[], str]) -> str:
    """The key in `path`; when there is none, one made by `make` and published race-safely."""
    if path.exists():
        return _read(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _write_private(path.parent, make())
    except OSError as error:
        raise LocalKeyError(f"cannot create {path}: {error.strerror or error}") from None
    try:
        os.link(temporary, path)  # fails with EEXIST when another process published first
    except FileExistsError:
        pass
    except OSError as error:
        raise LocalKeyError(f"cannot create {path}: {error.strerror or error}") from None
    finally:
        os.unlink(temporary)
    return _read(path)


def replace(path: Path, value: str) -> None:
    """Atomically replaces the key kept in `path` (used when a new admin key is minted)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _write_private(path.parent, value)
        os.replace(temporary, path)
    except OSError as error:
        raise LocalKeyError(f"cannot write {path}: {error.strerror or error}") from None


def admin_key_path(settings: Settings) -> Path:
    return settings.data_dir / ADMIN_KEY_FILE


def codec_key_path(settings: Settings) -> Path:
    return settings.data_dir / CODEC_KEY_FILE


def admin_api_key(settings: Settings) -> str:
    return settings.admin_api_key or load_or_create(admin_key_path(settings), new_api_key)


def console_jwt_key(settings: Settings) -> str:
    """The console tokens' HS256 key: 64 random bytes, URL-safe (well over the 32 RFC 7518 asks)."""
    if settings.assistant_jwt_secret is not None:
        return settings.assistant_jwt_secret.get_secret_value()
    path = settings.data_dir / CONSOLE_JWT_KEY_FILE
    return load_or_create(path, lambda: secrets.token_urlsafe(64))


def console_password_path(settings: Settings) -> Path:
    return settings.data_dir / CONSOLE_PASSWORD_FILE


def console_admin_password(settings: Settings) -> str:
    """The first console user's password: the setting, else the one generated once."""
    if settings.assistant_admin_password is not None:
        return settings.assistant_admin_password.get_secret_value()
    return load_or_create(console_password_path(settings), lambda: secrets.token_urlsafe(18))


def codec_key(settings: Settings) -> str:
    if settings.codec_key:
        return check_codec_key(settings.codec_key, "CONNESKILLS_CODEC_KEY")
    path = codec_key_path(settings)
    return check_codec_key(load_or_create(path, new_codec_key), str(path))


def with_local_keys(settings: Settings, *, admin: bool = False) -> Settings:
    """`settings` with the codec key (and, when `admin`, the admin API key and the assistant
    console's signing key and first password: what the API needs) filled in.

    Raises LocalKeyError when a key can be neither read nor created.
    """
    update = {"codec_key": codec_key(settings)}
    if admin:
        update["admin_api_key"] = admin_api_key(settings)
        update["assistant_jwt_secret"] = SecretStr(console_jwt_key(settings))
        update["assistant_admin_password"] = SecretStr(console_admin_password(settings))
    return settings.model_copy(update=update)
