"""Where the CLI finds the API and its key: flags, the environment, a profile file.

Precedence: `--api-url` (a flag), then a profile named by `--profile` (or `CONNESKILLS_PROFILE`),
then `CONNESKILLS_API_URL` / `CONNESKILLS_API_KEY`, then the file's `default` profile, then
`http://127.0.0.1:8000`. A profile asked for by name wins over the environment (as `aws
--profile` does): naming one is the more deliberate choice. The key is never a flag: a command
line is visible to every user of the machine (`ps`) and kept in shell history.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"


class ConfigError(Exception):
    """A profile or setting the CLI cannot use (exit 64)."""


@dataclass(frozen=True)
class Config:
    api_url: str
    api_key: str | None
    profile: str | None


def profiles_path() -> Path:
    if explicit := os.environ.get("CONNESKILLS_CONFIG"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "conneskills" / "profiles.toml"


def _read_profiles(path: Path) -> dict[str, dict]:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    profiles = {name: value for name, value in data.items() if isinstance(value, dict)}
    for name, profile in profiles.items():
        unknown = set(profile) - {"api_url", "api_key", "api_key_file"}
        if unknown:
            raise ConfigError(f"{path}: profile {name!r} has unknown keys {sorted(unknown)}")
    return profiles


def _profile_key(path: Path, name: str, profile: dict) -> str | None:
    if "api_key" in profile:
        # A key in the file is a secret at rest: like ssh, refuse a file others can read.
        if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"{path} holds an API key and can be read by other users: chmod 600 {path}"
            )
        return str(profile["api_key"])
    if "api_key_file" in profile:
        key_file = Path(str(profile["api_key_file"])).expanduser()
        try:
            return key_file.read_text().strip() or None
        except OSError as error:
            raise ConfigError(f"profile {name!r}: cannot read api_key_file: {error}") from None
    return None


def resolve(api_url: str | None, profile: str | None) -> Config:
    path = profiles_path()
    profiles = _read_profiles(path)
    chosen = profile or os.environ.get("CONNESKILLS_PROFILE")
    env_url = os.environ.get("CONNESKILLS_API_URL")
    env_key = os.environ.get("CONNESKILLS_API_KEY")
    if chosen:
        if chosen not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigError(f"no profile {chosen!r} in {path} (profiles: {known})")
        values = profiles[chosen]
        url = api_url or values.get("api_url") or env_url or DEFAULT_URL
        key = _profile_key(path, chosen, values) or env_key
        return Config(str(url), key, chosen)
    default = profiles.get("default", {})
    url = api_url or env_url or default.get("api_url") or DEFAULT_URL
    key = env_key or (_profile_key(path, "default", default) if default else None)
    return Config(str(url), key, "default" if default else None)
