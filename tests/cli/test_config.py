"""Where the CLI finds the API and its key: flags, environment, profiles, in that documented order."""

from __future__ import annotations

import pytest

from conneskills.cli.config import ConfigError, resolve


@pytest.fixture
def profiles(tmp_path, monkeypatch):
    path = tmp_path / "profiles.toml"
    monkeypatch.setenv("CONNESKILLS_CONFIG", str(path))
    for name in ("CONNESKILLS_API_URL", "CONNESKILLS_API_KEY", "CONNESKILLS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_flags_then_a_named_profile_then_the_environment_then_the_default_profile(
    profiles, monkeypatch, tmp_path
):
    key_file = tmp_path / "key"
    key_file.write_text("csk_from_file\n")
    profiles.write_text(
        f'[default]\napi_url = "http://default"\napi_key_file = "{key_file}"\n'
        '[prod]\napi_url = "http://prod"\napi_key = "csk_prod"\n'
    )
    profiles.chmod(0o600)
    assert resolve(None, None).api_url == "http://default"
    assert resolve(None, None).api_key == "csk_from_file"
    monkeypatch.setenv("CONNESKILLS_API_URL", "http://env")
    monkeypatch.setenv("CONNESKILLS_API_KEY", "csk_env")
    assert (resolve(None, None).api_url, resolve(None, None).api_key) == ("http://env", "csk_env")
    assert (resolve(None, "prod").api_url, resolve(None, "prod").api_key) == ("http://prod", "csk_prod")  # fmt: skip
    assert resolve("http://flag", "prod").api_url == "http://flag"


def test_a_profile_file_holding_a_key_others_can_read_is_refused(profiles):
    profiles.write_text('[default]\napi_key = "csk_x"\n')
    profiles.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        resolve(None, None)


def test_an_unknown_profile_or_key_is_a_clear_error(profiles):
    profiles.write_text('[default]\napi_url = "http://a"\napi_token = "x"\n')
    with pytest.raises(ConfigError, match="unknown keys"):
        resolve(None, None)
    profiles.write_text('[default]\napi_url = "http://a"\n')
    with pytest.raises(ConfigError, match="no profile 'prod'"):
        resolve(None, "prod")
