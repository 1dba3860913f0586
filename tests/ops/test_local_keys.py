"""Generated keys: every process finds or creates the same ones under the data dir (issue 7, #18)."""

from __future__ import annotations

import base64
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from core.local_keys import LocalKeyError, codec_key, with_local_keys
from core.settings import Settings
from temporal.client import MissingCodecKey, data_converter
from temporal.codec import EncryptionCodec

ROOT = Path(__file__).resolve().parents[2]


def test_core_depends_on_neither_store_nor_temporal() -> None:
    code = (
        "import sys, core.local_keys, core.settings, core.logging;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('store', 'temporal', 'api'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def _resolve(data_dir: str) -> str:
    return codec_key(Settings(data_dir=Path(data_dir)))


def test_concurrent_first_use_agrees_on_one_key(tmp_path: Path) -> None:
    with ProcessPoolExecutor(max_workers=4) as pool:
        keys = list(pool.map(_resolve, [str(tmp_path / "data")] * 16))
    assert len(set(keys)) == 1
    assert (tmp_path / "data" / "codec_key").read_text().strip() == keys[0]
    assert (tmp_path / "data" / "codec_key").stat().st_mode & 0o777 == 0o600
    assert len(base64.b64decode(keys[0])) == 32
    EncryptionCodec(keys[0])  # the codec accepts the format core generates
    assert not [p for p in (tmp_path / "data").iterdir() if p.name.startswith(".key-")]


def test_settings_win_over_files(tmp_path: Path) -> None:
    key = base64.b64encode(b"k" * 32).decode()
    given = Settings(
        data_dir=tmp_path,
        codec_key=key,
        admin_api_key="csk_x",
        assistant_jwt_secret="j" * 48,
        assistant_admin_password="console-password",
    )
    resolved = with_local_keys(given, admin=True)
    assert (resolved.codec_key, resolved.admin_api_key) == (key, "csk_x")
    assert not list(tmp_path.iterdir())


def test_admin_key_is_created_once(tmp_path: Path) -> None:
    first = with_local_keys(Settings(data_dir=tmp_path), admin=True)
    again = with_local_keys(Settings(data_dir=tmp_path), admin=True)
    assert first.admin_api_key == again.admin_api_key
    assert first.admin_api_key.startswith("csk_")


@pytest.mark.parametrize("case", ["unreadable", "invalid", "empty", "not_writable"])
def test_unusable_codec_key_is_refused(tmp_path: Path, case: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    if case == "unreadable":
        (data / "codec_key").mkdir()  # as root, a directory is the one file nobody can read
    elif case == "invalid":
        (data / "codec_key").write_text("not-a-key\n")
    elif case == "empty":
        (data / "codec_key").write_text("")
    else:
        (tmp_path / "file").write_text("")
        data = tmp_path / "file" / "data"  # under a regular file: cannot be created
    with pytest.raises(LocalKeyError) as error:
        codec_key(Settings(data_dir=data))
    assert "\n" not in str(error.value)
    assert "codec_key" in str(error.value)


def test_no_temporal_client_is_built_without_the_codec_key():
    with pytest.raises(MissingCodecKey):
        data_converter(Settings(codec_key=None))
