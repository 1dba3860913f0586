"""mkdocs hook: the configuration page's table of settings, generated from `core.settings.Settings`.

The page holds the marker `<!-- settings-table -->`; at build time it becomes one row per field of
the model: its environment variable(s), type, default and description. A field without a
description fails the build, so a new setting cannot go undocumented and the page cannot drift.
"""

from __future__ import annotations

import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

MARKER = "<!-- settings-table -->"
PAGE = "configuration.md"


def _settings_class() -> type:
    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    from core.settings import Settings

    return Settings


def env_names(name: str, field: FieldInfo, prefix: str) -> list[str]:
    """The variables pydantic-settings reads a field from: its validation aliases when it has
    them (then the prefixed name is not read), else the prefix + the upper-case name."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    return [f"{prefix}{name}".upper()]


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return " | ".join(_type_name(arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return "None"
    if annotation is SecretStr:
        return "secret str"
    if annotation is Path:
        return "path"
    origin = typing.get_origin(annotation)
    if origin is not None:
        args = ", ".join(_type_name(arg) for arg in typing.get_args(annotation))
        return f"{origin.__name__}[{args}]"
    return getattr(annotation, "__name__", str(annotation))


def _constraints(field: FieldInfo) -> str:
    symbols = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}
    found = []
    for item in field.metadata:
        for attr, symbol in symbols.items():
            value = getattr(item, attr, None)
            if value is not None:
                found.append(
                    f"{symbol} {value:g}" if isinstance(value, float) else f"{symbol} {value}"
                )
    return ", ".join(found)


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, list | dict):
        value = json.dumps(value)
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def settings_table() -> str:
    settings = _settings_class()
    prefix = settings.model_config.get("env_prefix", "")
    undocumented = [
        name
        for name, field in settings.model_fields.items()
        if not (field.description or "").strip()
    ]
    if undocumented:
        raise PluginError(
            "core.settings.Settings fields without a description (add Field(description=...)): "
            + ", ".join(undocumented)
        )
    rows = [
        "| variable | type | default | description |",
        "|---|---|---|---|",
    ]
    for name, field in settings.model_fields.items():
        variables = "<br>".join(f"`{env}`" for env in env_names(name, field, prefix))
        kind = _type_name(field.annotation)
        if constraint := _constraints(field):
            kind = f"{kind} ({constraint})"
        rows.append(
            f"| {variables} | {_cell(kind)} | {_cell(_default(field))} | {_cell(field.description)} |"
        )
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"{PAGE} lost its {MARKER} marker")
    return markdown.replace(MARKER, settings_table())
