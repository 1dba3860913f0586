"""The platform's one settings object: every port, URL and credential, read from CONNESKILLS_* env vars."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONNESKILLS_", extra="ignore")

    data_dir: Path = Path(".data")

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    # Defaults to the dev server's UI on temporal_ui_port; set it when the UI lives elsewhere.
    temporal_ui_url_override: str | None = Field(
        default=None, validation_alias=AliasChoices("CONNESKILLS_TEMPORAL_UI_URL")
    )
    task_queue: str = "conneskills-platform"
    # How often the lock on a resource checks that the job holding it still runs (a job terminated
    # by hand cannot release it): the longest the next job waits after such a termination.
    job_lock_check_seconds: float = Field(default=30.0, gt=0)
    # How long a job's step keeps retrying an outage of an outside API (503, refused connections,
    # timeouts) before the job fails, and the longest wait between two attempts. Fixed per job
    # when it starts; errors a retry cannot fix fail the job at once.
    step_retry_minutes: float = Field(default=15.0, gt=0)
    step_retry_initial_seconds: float = Field(default=1.0, gt=0)
    step_retry_max_interval_seconds: float = Field(default=30.0, gt=0)
    # How long a step's activity may go silent (its worker killed or stuck) before the attempt is
    # given to another worker. Activities heartbeat every second while they work; fixed per job
    # when it starts, like the retry window.
    step_heartbeat_seconds: float = Field(default=5.0, ge=2)
    # How long a job's next workflow task waits for the worker that ran its last one before any
    # worker may take it (the SDK's default is 10 s). A worker that died makes every job it was
    # running wait this long once; a live one answers in milliseconds, so a short wait costs a
    # replay only when a worker is busier than this.
    worker_sticky_queue_timeout_seconds: float = Field(default=3.0, gt=0)
    # A job started with `on_failure: hold` waits this long in `needs_attention` for `retry` or
    # `rollback`, then rolls back by itself (issue 10).
    job_hold_seconds: float = Field(default=24 * 3600.0, gt=0)
    # force-cancel (terminate + cleanup job) is allowed this long after the graceful cancel.
    job_force_cancel_cooloff_seconds: float = Field(default=120.0, ge=0)
    # AES-GCM key (base64, 32 bytes) for Temporal payloads; `make run` generates one under data_dir.
    codec_key: str | None = None
    # Lets the dev server's Web UI, in a browser on this machine, call /codec without an API key.
    codec_allow_loopback: bool = True
    # The API's bound on one Temporal call (and on connecting): past it the API answers 503 rather
    # than keep the caller waiting on a server that hangs. A refused connection answers at once.
    temporal_api_timeout_seconds: float = 5.0

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # uvicorn worker processes behind the one port (bench/job_start.py measured the choice).
    api_workers: int = 1
    public_api_url: str = "http://127.0.0.1:8000"
    admin_api_key: str | None = None
    cors_origins: list[str] = Field(default_factory=list)
    # Largest request body the API reads (413 above it); per-field limits keep workflow inputs far
    # smaller still, well under Temporal's 2 MB payload limit.
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)

    # The platform's own tables
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CONNESKILLS_DATABASE_URL", "DATABASE_URL"),
    )

    # Google Cloud: endpoints default to the local cloud; set them (and credentials) for production.
    gcp_project: str = "conneskills-local"
    gcp_region: str = "us-central1"
    localcloud_host: str = "127.0.0.1"
    localcloud_port: int = 8090
    localcloud_lro_delay_seconds: float = 1.0
    cloud_run_endpoint: str | None = None
    logging_endpoint: str | None = None
    secret_manager_endpoint: str | None = None
    artifact_registry_endpoint: str | None = None
    cloud_build_endpoint: str | None = None
    iam_endpoint: str | None = None
    use_real_google_credentials: bool = False

    # Image builds (seed 000 §1.8): where repositories are cloned from and pushed to (default: the
    # local cloud's git hosting), the token for it, and what the Cloud Build GitHub connection uses.
    github_base_url: str | None = None
    github_token: SecretStr | None = None
    github_token_secret: str = "github-token"
    github_app_installation_id: int | None = None

    # Ephemeral GitHub Actions runners (seed 004). The Docker daemon and GitHub REST default to the
    # local cloud; production: `unix:///var/run/docker.sock` and `https://api.github.com` + a token
    # that may administer the repos'/orgs' runners.
    docker_base_url: str | None = None
    # "auto" asks the daemon (GET /version) once per client; pin one to skip that call.
    docker_api_version: str = "auto"
    github_api_url: str | None = None
    github_api_token: SecretStr | None = None
    runner_image: str = "ghcr.io/actions/actions-runner:latest"
    # The official image reads its JIT config from ACTIONS_RUNNER_INPUT_JITCONFIG when run.sh starts.
    runner_command: list[str] = Field(default_factory=lambda: ["/home/runner/run.sh"])
    runner_network: str | None = None
    # A runner that has not finished its one job within this time is stopped and removed.
    runner_max_lifetime_minutes: float = Field(default=360.0, gt=0)
    runner_poll_seconds: float = Field(default=1.0, gt=0)
    # DELETE /runners/{id} waits this long for the runner's teardown before answering.
    runner_destroy_wait_seconds: float = Field(default=20.0, ge=0)
    runner_cleanup_interval_minutes: float = Field(default=5.0, gt=0)

    # Oversight (issue 10). The JobReaper Schedule runs this often: it raises jobs open past their
    # type's expected duration (contracts/<system>/names.py TIMEOUTS) and closed jobs labelled
    # alert=compensation_failed as alerts, resolves overdue alerts of jobs that ended, and prunes
    # the audit trail past its retention.
    job_reaper_interval_minutes: float = Field(default=5.0, gt=0)
    # Every type's expected duration times this factor; `job_expected_seconds` sets one type's
    # outright, e.g. CONNESKILLS_JOB_EXPECTED_SECONDS='{"DeployService": 1800}'.
    job_expected_duration_factor: float = Field(default=1.0, gt=0)
    job_expected_seconds: dict[str, float] = Field(default_factory=dict)
    # Audit rows older than this are deleted by the reaper.
    audit_retention_days: float = Field(default=90.0, gt=0)
    # Audit rows wait here (per API process) to be written in batches off the request path; a
    # full queue makes the next mutating request wait for room (after its answer) rather than drop
    # a row.
    audit_queue_size: int = Field(default=10_000, ge=1)

    # The seed-004 gateway (:8080) in front of the API's /api/v1/runners.
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    gateway_upstream_url: str | None = None
    gateway_cors_origins: list[str] = Field(default_factory=list)
    # Backoff between upstream attempts: base, 2×base, 4×base (1 s, 2 s, 4 s by default).
    gateway_retry_base_seconds: float = Field(default=1.0, ge=0)
    gateway_upstream_timeout_seconds: float = Field(default=30.0, gt=0)
    gateway_drain_seconds: float = Field(default=5.0, ge=0)

    # The LiteLLM proxy's admin API (customers' users and keys, agents' keys, prompts): the local
    # cloud's `/litellm` and its dev master key by default; production: the proxy's URL and key.
    litellm_base_url: str | None = None
    litellm_master_key: SecretStr = SecretStr("sk-localcloud-litellm-master-key")
    litellm_timeout_seconds: float = Field(default=15.0, gt=0)
    # What deployed agents call (their LITELLM_URL); defaults to litellm_base_url.
    litellm_agent_url: str | None = None
    # DELETE /agents/{name} waits this long for RetireAgent: 204 when done, else 202 with the job.
    agent_retire_wait_seconds: float = Field(default=20.0, ge=0)

    # Access policy applied to private services (seed 000 §1.2)
    private_access_domain: str = "conneskills.com"
    onboarding_service_account: str = "ai-agent-onboarding"

    # CRM ingest (seed 003): the per-account rate limit (a `limits` string), where its counters
    # live (`memory://`, or `redis://host:port/db` shared by every API process), and the header a
    # CRM puts its delivery id in (taken as an Idempotency-Key when that header is absent).
    crm_ingest_rate_limit: str = "100/second"
    crm_rate_limit_storage_url: str = "memory://"
    crm_delivery_id_header: str | None = None

    # Customers (seed 000 §3). Jira Cloud + Service Management: site URL (default: the local
    # cloud's Jira under /jira), the account's email and API token.
    jira_base_url: str | None = None
    jira_email: str = "platform@conneskills.local"
    jira_api_token: SecretStr | None = SecretStr("local-jira-token")
    # The MySQL/MariaDB server that holds each customer's ZenML database (an admin account that
    # may create databases and users), and the host the ZenML server reaches it at.
    zenml_mysql_url: SecretStr = SecretStr("mysql://root@127.0.0.1:3306")
    zenml_mysql_host_for_server: str | None = None
    zenml_server_image: str = "zenmldocker/zenml-server:0.98.0"
    # DELETE /customers/{id} answers 204 when offboarding ends within this time, else 202 + job.
    customer_offboard_wait_seconds: float = Field(default=20.0, ge=0)

    @property
    def resolved_jira_base_url(self) -> str:
        return (self.jira_base_url or f"{self.localcloud_url}/jira").rstrip("/")

    @property
    def temporal_ui_url(self) -> str:
        return self.temporal_ui_url_override or f"http://127.0.0.1:{self.temporal_ui_port}"

    @property
    def localcloud_url(self) -> str:
        return f"http://{self.localcloud_host}:{self.localcloud_port}"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'platform.db').resolve()}"

    def endpoint_for(self, api: str) -> str:
        """Base URL of one Google API; the local cloud unless that API's endpoint is set."""
        explicit = {
            "run": self.cloud_run_endpoint,
            "logging": self.logging_endpoint,
            "secretmanager": self.secret_manager_endpoint,
            "artifactregistry": self.artifact_registry_endpoint,
            "cloudbuild": self.cloud_build_endpoint,
            "iam": self.iam_endpoint,
        }[api]
        return explicit or self.localcloud_url

    @property
    def resolved_github_base_url(self) -> str:
        return (self.github_base_url or f"{self.localcloud_url}/git").rstrip("/")

    @property
    def resolved_github_installation_id(self) -> int | None:
        """The Cloud Build GitHub App installation; the local cloud's stands in when git is local."""
        if self.github_app_installation_id is not None or self.github_base_url:
            return self.github_app_installation_id
        return 1

    @property
    def resolved_docker_base_url(self) -> str:
        return self.docker_base_url or f"tcp://{self.localcloud_host}:{self.localcloud_port}"

    @property
    def resolved_github_api_url(self) -> str:
        return (self.github_api_url or f"{self.localcloud_url}/github").rstrip("/")

    @property
    def resolved_github_api_token(self) -> str:
        """The local cloud's GitHub accepts any token; real GitHub needs CONNESKILLS_GITHUB_API_TOKEN."""
        if self.github_api_token is not None:
            return self.github_api_token.get_secret_value()
        return "localcloud-github-token"

    @property
    def resolved_litellm_base_url(self) -> str:
        return (self.litellm_base_url or f"{self.localcloud_url}/litellm").rstrip("/")

    @property
    def resolved_litellm_agent_url(self) -> str:
        return (self.litellm_agent_url or self.resolved_litellm_base_url).rstrip("/")

    @property
    def resolved_gateway_upstream_url(self) -> str:
        return (self.gateway_upstream_url or self.public_api_url).rstrip("/")

    @property
    def onboarding_service_account_email(self) -> str:
        return f"{self.onboarding_service_account}@{self.gcp_project}.iam.gserviceaccount.com"


@lru_cache
def get_settings() -> Settings:
    return Settings()
