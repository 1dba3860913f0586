"""The assistant's configuration: defaults merged with what was stored, and partial updates that
must name a provider and model the LiteLLM proxy routes (settings: `assistant_llm_models`) and
enable only cloud providers the platform can call: AWS (the local cloud's moto, or credentials from
Secret Manager) and GCP (the Google clients the platform uses); Azure is listed but has neither
client nor emulator, so enabling it is refused with the reason."""

from __future__ import annotations

import copy
from typing import Any

from api.errors import ApiError
from api.schemas.assistant.config import DEFAULT_CONFIG, AssistantConfig, ConfigUpdate
from core.settings import Settings
from store.assistant import config as store
from store.db import Database


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


async def current(db: Database) -> AssistantConfig:
    async with db.transaction() as session:
        stored = await store.read(session)
    return AssistantConfig.model_validate(_merge(DEFAULT_CONFIG, stored or {}))


async def update(db: Database, settings: Settings, change: ConfigUpdate) -> AssistantConfig:
    async with db.transaction() as session:
        stored = await store.read(session) or {}
        merged = _merge(_merge(DEFAULT_CONFIG, stored), change.model_dump(exclude_none=True))
        _check_llm(settings, merged["llm"]["provider"], merged["llm"]["model"])
        _check_clouds(merged["cloud_providers"])
        await store.write(session, merged)
    return AssistantConfig.model_validate(merged)


def _check_llm(settings: Settings, provider: str, model: str) -> None:
    models = settings.assistant_llm_models
    if provider not in models:
        raise _invalid("llm.provider", f"unknown LLM provider {provider!r}", sorted(models))
    if model not in models[provider]:
        raise _invalid(
            "llm.model", f"unknown model {model!r} for provider {provider!r}", models[provider]
        )


# Why a provider cannot be enabled, for those that cannot.
UNAVAILABLE_PROVIDERS = {
    "azure": "azure cannot be enabled: the platform has no Azure client, credentials or "
    "emulator, so no Azure tool exists",
}


def _check_clouds(providers: dict[str, Any]) -> None:
    for name, why in UNAVAILABLE_PROVIDERS.items():
        if providers.get(name, {}).get("enabled"):
            available = sorted(set(providers) - set(UNAVAILABLE_PROVIDERS))
            raise _invalid(f"cloud_providers.{name}.enabled", why, available)


def _invalid(field: str, message: str, choices: list[str]) -> ApiError:
    return ApiError(
        400,
        f"{message}; choose from {', '.join(choices)}",
        code="validation_error",
        details={"fields": [{"field": field, "message": message}], "choices": choices},
    )
