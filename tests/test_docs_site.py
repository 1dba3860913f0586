"""The documentation site builds with `mkdocs build --strict` (a broken link or anchor, or a setting
without a description, fails it), names no issue numbers, and its configuration page lists every
setting's environment variable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pydantic import AliasChoices

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ISSUE_NUMBER = re.compile(r"\bissue\s*#?\d+", re.IGNORECASE)


def env_vars(name: str) -> list[str]:
    """What pydantic-settings reads a field from: its aliases when it has them, else prefix + name."""
    field = Settings.model_fields[name]
    if isinstance(field.validation_alias, AliasChoices):
        return [str(choice) for choice in field.validation_alias.choices]
    if isinstance(field.validation_alias, str):
        return [field.validation_alias]
    return [f"{Settings.model_config['env_prefix']}{name}".upper()]


def test_the_site_builds_strict_and_lists_every_setting(tmp_path):
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stdout + built.stderr
    page = (site / "configuration" / "index.html").read_text()
    missing = [
        variable
        for name in Settings.model_fields
        for variable in env_vars(name)
        if variable not in page
    ]
    assert missing == []


def test_no_page_names_an_issue_number():
    pages = [
        ROOT / "README.md",
        ROOT / "mkdocs.yml",
        *(p for p in (ROOT / "docs").rglob("*") if p.suffix in {".md", ".py", ".yml"}),
    ]
    offenders = {
        str(path.relative_to(ROOT)): ISSUE_NUMBER.findall(path.read_text())
        for path in pages
        if ISSUE_NUMBER.search(path.read_text())
    }
    assert offenders == {}
