"""Keys `make run` keeps under the data dir when settings give none: the admin API key and the codec key."""

from __future__ import annotations

import os
from pathlib import Path

from core.settings import Settings
from store.api_keys import generate_key
from temporal.codec import generate_key as generate_codec_key


def _load_or_create(path: Path, make) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    # Written owner-only: these files are credentials.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def admin_api_key(settings: Settings) -> str:
    return settings.admin_api_key or _load_or_create(
        settings.data_dir / "admin_api_key", generate_key
    )


def codec_key(settings: Settings) -> str:
    return settings.codec_key or _load_or_create(
        settings.data_dir / "codec_key", generate_codec_key
    )
