"""AI agents (seed 000 §4): what crosses Temporal for DeployAgent and RetireAgent, and the naming
rules that tie an agent to its Cloud Run service, LiteLLM key and secret.

An agent of customer `acme` named `researcher` is the Cloud Run service `acme-researcher`, the
LiteLLM key with alias `acme-researcher`, and the secret `acme-researcher-litellm-key` holding that
key. Ownership is recorded on the service (Cloud Run label and registry row `labels`:
`conneskills-agent: <agent_name>`); only key *names* and hashes travel, never the key.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

# The label on the Cloud Run service and in its registry row that says "this service is an agent".
AGENT_LABEL = "conneskills-agent"
# A LiteLLM key's metadata entry naming the job that generated it: compensation deletes only those.
KEY_JOB_METADATA = "conneskills-job-id"
# The secret label naming the job that created it.
JOB_LABEL = "job-id"
# Agent names: a DNS-label piece that is also a valid Cloud Run label value.
AGENT_NAME_PATTERN = r"^[a-z](?:[a-z0-9-]{0,28}[a-z0-9])?$"
# The env var the agent's container reads its LiteLLM key from (mounted from the secret).
KEY_ENV_VAR = "LITELLM_API_KEY"


def agent_service_name(prefix: str, agent_name: str) -> str:
    return f"{prefix}-{agent_name}"


def agent_key_alias(service_name: str) -> str:
    return service_name


def agent_secret_name(service_name: str) -> str:
    return f"{service_name}-litellm-key"


class DeployAgentInput(BaseModel):
    customer_id: str
    agent_name: str
    # `{prefix}-{agent_name}`, computed by the API (the job's subject); the job checks it again.
    service_name: str
    region: str
    prompt_ref: str
    image: str
    default_model: str
    agent_role: str
    cpu: str
    memory: str
    port: int
    min_instances: int
    max_instances: int
    allow_public_access: bool
    service_account: str
    litellm_url: str


class RetireAgentInput(BaseModel):
    service_name: str
    region: str


class AgentCustomer(BaseModel):
    customer_id: str
    prefix: str
    litellm_user_id: str | None = None


class FindCustomerInput(BaseModel):
    customer_id: str


class CheckPromptInput(BaseModel):
    prompt_ref: str


class AgentKeyInput(BaseModel):
    """Which key and secret a job provisions or cleans up; `job_id` marks what the job creates."""

    key_alias: str
    secret_name: str
    job_id: str
    litellm_user_id: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class AgentKeyResult(BaseModel):
    """What phase 5–6 did: the key's hash (never the key) and what this job created."""

    token: str
    key_created: bool
    secret_created: bool
    secret_version_added: bool


class RemovedJobKey(BaseModel):
    key_deleted: bool
    secret_deleted: bool
    versions_destroyed: int


class AgentServiceCall(BaseModel):
    service_name: str
    region: str


class AgentDescription(BaseModel):
    """What RetireAgent finds: the service (if still there) and whose agent it is."""

    service_exists: bool
    is_agent: bool
    agent_name: str | None = None
    customer_prefix: str | None = None


class NamedResource(BaseModel):
    name: str
    # Set when nothing else proves the name is an agent's: then only a secret labelled, or a key
    # whose metadata is marked, as an agent's is deleted.
    only_if_agent: bool = False
