"""Request shape of seed 000 §2.10 (create a dedicated database for a service)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import ConfigDict, Field, SecretStr

from api.schemas.base import FromString, RequestModel
from contracts.provisioning.service_databases import DB_NAME_PATTERN

MAX_PASSWORD_LENGTH = 128


class ServiceDatabaseCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"db_name": "phoenix", "service_name": "phoenix"}],
        },
    )

    db_name: str = Field(
        pattern=DB_NAME_PATTERN,
        description="Database and user name: lowercase letters, digits, _ and -; starts with a "
        "letter or _; at most 63 characters.",
    )
    service_name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    customer_id: Annotated[uuid.UUID, FromString] | None = None
    password: SecretStr | None = Field(
        default=None,
        min_length=12,
        max_length=MAX_PASSWORD_LENGTH,
        description="Optional; a 24-character password is generated when absent. Stored only in "
        "Secret Manager.",
    )
