"""What the LearnApi job and its activity pass each other: the API to learn (its source URL and
the *name* of the secret holding its credentials, never a value) and what was learned (counts,
not the document: the activity writes the operations itself)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

LEARNED_API_ID_PATTERN = r"^api_[a-z0-9]{1,24}$"


class Credentials(BaseModel):
    """How a learned API's calls authenticate: the Secret Manager secret whose value is sent in
    `header` (after `scheme` and a space when a scheme is named)."""

    secret: str = Field(pattern=r"^[A-Za-z0-9_-]{1,255}$")
    header: str = Field(default="Authorization", pattern=r"^[A-Za-z0-9-]{1,64}$")
    scheme: str | None = Field(default="Bearer", max_length=20, pattern=r"^[A-Za-z]+$")


class LearnInput(BaseModel):
    api_id: str = Field(pattern=LEARNED_API_ID_PATTERN)
    owner: str = Field(max_length=200)
    type: Literal["openapi"] = "openapi"
    source: str = Field(max_length=2000)
    name: str | None = Field(default=None, max_length=100)
    credentials: Credentials | None = None


class LearnRequest(BaseModel):
    """The activity's input: the job's input and the job's id (the row is keyed by it)."""

    job_id: str
    learn: LearnInput


class LearnedApiSummary(BaseModel):
    api_id: str
    name: str
    endpoints: int
    base_url: str
