"""The platform's one settings object: every port, URL and credential, read from CONNESKILLS_* env vars.

Every field says what it is in `Field(description=...)`: the documentation site's configuration page
is generated from them (docs/hooks/settings_page.py), and its build fails on a field without one.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

GatewayLogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def origin_list(value: Any) -> Any:
    """A JSON list (`["https://a.example"]`) or the seed's comma-separated form (`*`,
    `https://a.example,https://b.example`)."""
    if not isinstance(value, str):
        return value
    if value.strip().startswith("["):
        return json.loads(value)
    return [origin.strip() for origin in value.split(",") if origin.strip()]


def upper_case(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


# How long the API and the gateway keep an idle client connection open: longer than clients keep
# one (httpx: 5 s, uvicorn's own default too), so the client closes first. With equal times a
# request sent on a connection the server is closing fails with "Server disconnected without
# sending a response".
SERVER_KEEP_ALIVE_SECONDS = 75


class Settings(BaseSettings):
    # validate_by_name: code and tests may pass a field by its name even when it has env aliases.
    model_config = SettingsConfigDict(
        env_prefix="CONNESKILLS_", extra="ignore", validate_by_name=True
    )

    data_dir: Path = Field(
        default=Path(".data"),
        description="SQLite files, generated keys (codec key, admin API key) and the local "
        "cloud's state.",
    )

    # Temporal
    temporal_address: str = Field(
        default="127.0.0.1:7233", description="The Temporal frontend, `host:port`."
    )
    temporal_namespace: str = Field(
        default="default",
        description="The Temporal namespace the platform owns: every workflow in it is a job.",
    )
    temporal_ui_port: int = Field(
        default=8233,
        description="Port of the dev server's Web UI; job responses link to it.",
    )
    temporal_ui_url_override: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CONNESKILLS_TEMPORAL_UI_URL"),
        description="The Temporal Web UI's URL in job responses. Defaults to the dev server's UI "
        "on `temporal_ui_port`; set it when the UI lives elsewhere.",
    )
    task_queue: str = Field(
        default="conneskills-platform",
        description="The prefix of the platform's task queues: each system's workflows and "
        "activities run on `<task_queue>-<system>` (`provisioning`, `runners`, `oversight`), the "
        "lock and the cleanup after a force-cancel on `<task_queue>-core`, which every worker "
        "serves. The queue of this name itself is the one the platform used before the split "
        "(see `worker_serve_legacy_queue`).",
    )
    worker_serve_legacy_queue: bool = Field(
        default=True,
        description="Whether a worker serving every system also polls the queue named "
        "`task_queue` itself, where jobs started before the split into per-system queues run: "
        "keep it on until none of them is left (docs/operating.md, Task queues), then turn it off "
        "to save the worker its pollers.",
    )
    job_lock_check_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often the lock on a resource checks that the job holding it still runs "
        "(a job terminated by hand cannot release it): the longest the next job waits after such "
        "a termination.",
    )
    step_retry_minutes: float = Field(
        default=15.0,
        gt=0,
        description="How long a job's step keeps retrying an outage of an outside API (503, 429, "
        "refused connections, timeouts) before the job fails: the schedule-to-close of all its "
        "attempts together. Fixed per job when it starts; errors a retry cannot fix fail the job "
        "at once.",
    )
    step_retry_initial_seconds: float = Field(
        default=1.0,
        gt=0,
        description="The first wait between two attempts of a step; it doubles up to "
        "`step_retry_max_interval_seconds`. Fixed per job when it starts.",
    )
    step_retry_max_interval_seconds: float = Field(
        default=30.0,
        gt=0,
        description="The longest wait between two attempts of a step. Fixed per job when it "
        "starts.",
    )
    step_heartbeat_seconds: float = Field(
        default=5.0,
        ge=2,
        description="How long a step's activity may go silent (its worker killed or stuck) before "
        "the attempt is given to another worker. Activities heartbeat every second while they "
        "work. Fixed per job when it starts, like the retry window.",
    )
    worker_max_concurrent_activities: int = Field(
        default=100,
        ge=1,
        description="How many activities one worker process runs at once on each task queue it "
        "serves. The platform's activities mostly wait on outside APIs (in threads for the "
        "blocking clients), so many fit one process.",
    )
    worker_max_concurrent_workflow_tasks: int | None = Field(
        default=None,
        ge=2,
        description="How many workflow tasks one worker process runs at once on each task queue "
        "it serves; unset: the SDK's default.",
    )
    worker_graceful_shutdown_seconds: float = Field(
        default=10.0,
        ge=0,
        description="On SIGTERM, how long the worker lets running activities finish before it "
        "cancels them (they heartbeat, so a cancelled one is retried by another worker at once; "
        "one that is cut off without a cancel waits out its heartbeat timeout).",
    )
    worker_sticky_queue_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        description="How long a job's next workflow task waits for the worker that ran its last "
        "one before any worker may take it (the SDK's default is 10 s). A worker that died makes "
        "each job it was running wait this long once; a live worker answers in milliseconds, so a "
        "short wait costs a replay only when a worker is busier than this.",
    )
    job_hold_seconds: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="How long a job started with `X-Job-On-Failure: hold` waits in "
        "`needs_attention` for `retry` or `rollback` before it rolls back by itself.",
    )
    job_force_cancel_cooloff_seconds: float = Field(
        default=120.0,
        ge=0,
        description="How long after the graceful cancel `force-cancel` (terminate + cleanup job) "
        "is allowed.",
    )
    codec_key: str | None = Field(
        default=None,
        description="AES-GCM key (base64, 32 bytes) for Temporal payloads. When unset, the first "
        "process that needs it creates `codec_key` under `data_dir` (mode 600).",
    )
    codec_allow_loopback: bool = Field(
        default=True,
        description="Lets the dev server's Web UI, in a browser on this machine, call `/codec` "
        "without an API key.",
    )
    temporal_api_timeout_seconds: float = Field(
        default=5.0,
        description="The API's bound on one Temporal call (and on connecting): past it the API "
        "answers 503 rather than keep the caller waiting on a server that hangs. A refused "
        "connection answers at once.",
    )
    # A secured cluster or Temporal Cloud (docs/operating.md): every process connects the same way.
    temporal_tls: bool | None = Field(
        default=None,
        description="Whether to reach Temporal over TLS. Unset: on when a CA, a client "
        "certificate or an API key is set (Temporal Cloud needs TLS), off otherwise (the dev "
        "server).",
    )
    temporal_tls_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CA that signed the Temporal frontend's certificate; unset: "
        "the system's roots (enough for Temporal Cloud).",
    )
    temporal_tls_cert_file: Path | None = Field(
        default=None,
        description="PEM client certificate for mutual TLS (a Temporal Cloud namespace with "
        "certificate auth); needs `temporal_tls_key_file`.",
    )
    temporal_tls_key_file: Path | None = Field(
        default=None, description="PEM private key of `temporal_tls_cert_file`."
    )
    temporal_tls_server_name: str | None = Field(
        default=None,
        description="The name the frontend's certificate is checked against, when it is not the "
        "host of `temporal_address` (e.g. behind a load balancer).",
    )
    temporal_api_key: SecretStr | None = Field(
        default=None,
        description="API key for a Temporal Cloud namespace with API-key auth (sent as a bearer "
        "token on every call).",
    )

    # API
    api_host: str = Field(default="127.0.0.1", description="The interface the API listens on.")
    api_port: int = Field(default=8000, description="The port the API listens on.")
    api_workers: int = Field(
        default=1,
        description="uvicorn worker processes behind the one port (`bench/job_start.py` measured "
        "the choice).",
    )
    public_api_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The API's URL as its callers reach it: links in job responses, and the "
        "runners gateway's default upstream.",
    )
    admin_api_key: str | None = Field(
        default=None,
        description="The admin API key. When unset, `admin_api_key` under `data_dir` is created "
        "and registered by the API at start; `make run` prints it.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins CORS allows, as a JSON list; the Temporal UI's origin is always "
        "allowed.",
    )
    max_request_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body the API reads (413 above it); per-field limits keep "
        "workflow inputs far smaller still, well under Temporal's 2 MB payload limit.",
    )

    # The platform's own tables
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CONNESKILLS_DATABASE_URL", "DATABASE_URL"),
        description="The platform's own tables, as an SQLAlchemy async URL, e.g. a Supabase "
        "Postgres `postgresql+asyncpg://…`. SQLite at `platform.db` under `data_dir` when unset.",
    )
    migrate_on_start: bool = Field(
        default=True,
        description="Whether the API brings the platform's tables to the latest migration when it "
        "starts (`make run`, the tests). Turn it off where several API replicas share one "
        "database: run `python -m store.migrate` once before them instead (docker-compose.yml's "
        "`migrate` service does).",
    )

    # State several API processes share (docs/operating.md, "Several API processes").
    redis_url: str | None = Field(
        default=None,
        description="A Redis every API process reaches (`redis://host:port/db`, `rediss://…`): "
        "where the state they must share lives when set (the CRM ingest's rate-limit counters, "
        "unless `crm_rate_limit_storage_url` names another store). Unset: that state is kept in "
        "each process's memory, right for one API process only.",
    )
    redis_key_prefix: str = Field(
        default="conneskills",
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="What every key the platform writes to `redis_url` starts with, so several "
        "platforms (or test runs) can share one Redis.",
    )
    api_key_recheck_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often each API process checks, in one query, that the API keys it holds "
        "in its short lookup cache are still active: the longest a key revoked through another "
        "API process (or by hand in the database) goes on working here.",
    )

    # Google Cloud: endpoints default to the local cloud; set them (and credentials) for production.
    gcp_project: str = Field(default="conneskills-local", description="The Google Cloud project.")
    gcp_region: str = Field(
        default="us-central1",
        description="The default Google Cloud region (services, Artifact Registry repositories).",
    )
    localcloud_host: str = Field(
        default="127.0.0.1",
        description="Where the local cloud listens: every outside API defaults to it.",
    )
    localcloud_port: int = Field(default=8090, description="The local cloud's port.")
    localcloud_lro_delay_seconds: float = Field(
        default=1.0,
        description="How long a long-running operation of the local cloud stays pending.",
    )
    cloud_run_endpoint: str | None = Field(
        default=None,
        description="Cloud Run Admin v2 endpoint; the local cloud when unset.",
    )
    logging_endpoint: str | None = Field(
        default=None,
        description="Cloud Logging v2 endpoint; the local cloud when unset.",
    )
    secret_manager_endpoint: str | None = Field(
        default=None,
        description="Secret Manager v1 endpoint; the local cloud when unset.",
    )
    artifact_registry_endpoint: str | None = Field(
        default=None,
        description="Artifact Registry v1 endpoint (image builds); the local cloud when unset.",
    )
    cloud_build_endpoint: str | None = Field(
        default=None,
        description="Cloud Build v1/v2 endpoint (image builds); the local cloud when unset.",
    )
    iam_endpoint: str | None = Field(
        default=None,
        description="IAM Admin v1 endpoint (service accounts: the customers' ZenML runtime "
        "accounts); the local cloud when unset.",
    )
    use_real_google_credentials: bool = Field(
        default=False,
        description="Use Google's application default credentials instead of anonymous ones: set "
        "it with the real endpoints.",
    )

    # Image builds (seed 000 §1.8): where repositories are cloned from and pushed to (default: the
    # local cloud's git hosting), the token for it, and what the Cloud Build GitHub connection uses.
    github_base_url: str | None = Field(
        default=None,
        description="Where image builds clone `owner/repo` from and push to: the local cloud's "
        "`/git` when unset, `https://github.com` in production.",
    )
    github_token: SecretStr | None = Field(
        default=None,
        description="A token that may push to those repositories (sent as git's "
        "`http.extraHeader`, never in a URL).",
    )
    github_token_secret: str = Field(
        default="github-token",
        description="The Secret Manager secret the Cloud Build GitHub connection reads its token "
        "from.",
    )
    github_app_installation_id: int | None = Field(
        default=None,
        description="The Cloud Build GitHub App installation; the local cloud's (`1`) stands in "
        "while git is local. Set it, with `github_token_secret`, for real GitHub.",
    )

    # Ephemeral GitHub Actions runners (seed 004). The Docker daemon and GitHub REST default to the
    # local cloud; production: `unix:///var/run/docker.sock` and `https://api.github.com` + a token
    # that may administer the repos'/orgs' runners.
    docker_base_url: str | None = Field(
        default=None,
        description="The Docker daemon runner containers run on: the local cloud "
        "(`tcp://127.0.0.1:8090`) when unset, `unix:///var/run/docker.sock` in production.",
    )
    docker_api_version: str = Field(
        default="auto",
        description='"auto" asks the daemon (`GET /version`) once per client; pin one to skip '
        "that call.",
    )
    # Hosted Docker services (seed 001): on the Docker daemon above. The workspaces hold each
    # service's files, Compose file and secrets file; they are bind-mounted into its containers, so
    # they live on the Docker host (the worker runs there). The API writes uploaded ZIPs to the
    # uploads directory, which the worker reads: both processes share it.
    hosting_workspaces_dir: Path | None = Field(
        default=None,
        description="Where each hosted service's workspace lives (`<dir>/<service_id>`): "
        "`hosting/services` under `data_dir` when unset.",
    )
    hosting_uploads_dir: Path | None = Field(
        default=None,
        description="Where the API streams an uploaded `zip_file` until its job extracts it: "
        "`hosting/uploads` under `data_dir` when unset. Shared by the API and the worker.",
    )
    hosting_upload_max_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1024,
        description="Largest `POST /service` body (the ZIP upload); 413 above it. That route "
        "alone is exempt from `max_request_bytes`.",
    )
    hosting_upload_stale_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="A partial upload (`*.part`: its body never ended, say the API crashed "
        "mid-upload) not written to for this long is removed by the uploads sweep.",
    )
    hosting_upload_orphan_seconds: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="A complete upload that no job has extracted this long after it ended (its "
        "API stopped between the body and the job's start) is removed by the uploads sweep; a "
        "job that comes to it later fails, saying the uploaded archive is gone.",
    )
    hosting_upload_sweep_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often each API process sweeps the uploads directory (also once at start).",
    )
    hosting_zip_max_entries: int = Field(
        default=10_000, ge=1, description="Most entries a service's ZIP may hold."
    )
    hosting_zip_max_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=1024,
        description="Most bytes a service's ZIP may hold uncompressed, all entries together.",
    )
    hosting_zip_max_ratio: int = Field(
        default=200,
        ge=2,
        description="Highest compression ratio an entry over 1 MiB may have (a zip bomb's is "
        "far higher).",
    )
    hosting_git_hosts: list[str] = Field(
        default_factory=lambda: ["github.com", "gitlab.com", "bitbucket.org"],
        description="Hosts a service's `git_repo_url` may name (HTTPS only). With the local "
        "cloud's git hosting (`github_base_url` unset), `https://github.com/OWNER/REPO` is "
        "cloned from it.",
    )
    hosting_public_host: str = Field(
        default="127.0.0.1",
        description="The host name in a service's access URLs: the Docker host's public name.",
    )
    hosting_health_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a service job waits for its containers to become healthy.",
    )
    hosting_filebrowser_password_rounds: int = Field(
        default=12,
        ge=4,
        le=16,
        description="bcrypt's cost for the Filebrowser password hash a hosting service create "
        "makes from `admin_pass` (each step up doubles the CPU: about 0.3 s at 12 on a server "
        "core).",
    )
    github_api_url: str | None = Field(
        default=None,
        description="GitHub REST for runners: the local cloud's `/github` when unset, "
        "`https://api.github.com` in production.",
    )
    github_api_token: SecretStr | None = Field(
        default=None,
        description="A GitHub token that administers the repos'/orgs' runners (the local cloud "
        "accepts any).",
    )
    runner_image: str = Field(
        default="ghcr.io/actions/actions-runner:latest",
        description="The image each runner container runs.",
    )
    runner_command: list[str] = Field(
        default_factory=lambda: ["/home/runner/run.sh"],
        description="The runner container's command. The official image reads its JIT config "
        "from `ACTIONS_RUNNER_INPUT_JITCONFIG` when `run.sh` starts.",
    )
    runner_network: str | None = Field(
        default=None, description="The Docker network runner containers join, if any."
    )
    runner_max_lifetime_minutes: float = Field(
        default=360.0,
        gt=0,
        description="A runner that has not finished its one job within this time is stopped and "
        "removed.",
    )
    runner_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often a runner's container is checked."
    )
    runner_destroy_wait_seconds: float = Field(
        default=20.0,
        ge=0,
        description="How long `DELETE /runners/{id}` waits for the runner's teardown before "
        "answering.",
    )
    runner_cleanup_wait_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How long `POST /runners/cleanup` waits for its sweep before answering "
        "(`completed: false` with the job id after that).",
    )
    runner_cleanup_interval_minutes: float = Field(
        default=5.0, gt=0, description="The period of the runner-cleanup Schedule."
    )

    # Oversight: the reaper, alerts and the audit trail.
    job_reaper_interval_minutes: float = Field(
        default=5.0,
        gt=0,
        description="How often the JobReaper Schedule runs: it raises jobs open past their type's "
        "expected duration (`contracts/<system>/names.py` `TIMEOUTS`) and closed jobs labelled "
        "`alert=compensation_failed` as alerts, resolves overdue alerts of jobs that ended, and "
        "prunes the audit trail and the recorded job log lines past their retention.",
    )
    drift_observe_interval_minutes: float = Field(
        default=5.0,
        gt=0,
        description="How often the ObserveDrift Schedule compares each Cloud Run service the "
        "platform deployed with what runs now (read-only): the service's `conditions` and "
        "`drift`, and a `resource_drifted` alert once per new drift (docs/operating.md).",
    )
    job_expected_duration_factor: float = Field(
        default=1.0,
        gt=0,
        description="Every workflow type's expected duration is multiplied by this factor.",
    )
    job_expected_seconds: dict[str, float] = Field(
        default_factory=dict,
        description="Sets one type's expected duration outright, as a JSON map, e.g. "
        """`CONNESKILLS_JOB_EXPECTED_SECONDS='{"DeployService": 1800}'`.""",
    )
    audit_retention_days: float = Field(
        default=90.0, gt=0, description="Audit rows older than this are deleted by the reaper."
    )
    job_log_retention_days: float = Field(
        default=14.0,
        gt=0,
        description="Recorded job log lines (`job_log_lines`, what `GET /logs/stream` serves) "
        "older than this are deleted by the reaper; a stream resumed from an older "
        "`Last-Event-ID` continues with the oldest line kept.",
    )
    metrics_enabled: bool = Field(
        default=True,
        description="Serve `GET /metrics` (Prometheus text format, no key needed) on the API and "
        "the gateway: requests by route template and status, latency histograms, jobs started by "
        "operation, the audit queue's depth.",
    )
    metrics_job_gauges_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often the API refreshes `conneskills_jobs_held` (a visibility count) and "
        "`conneskills_jobs_overdue` (open overdue alerts) for `/metrics`.",
    )
    worker_metrics_host: str = Field(
        default="127.0.0.1",
        description="The interface the worker's Temporal SDK metrics endpoint listens on.",
    )
    worker_metrics_port: int = Field(
        default=9464,
        ge=0,
        le=65535,
        description="The port of the worker's Prometheus endpoint (`/metrics`, the Temporal SDK's "
        "`temporal_*` metrics, served by the SDK runtime); 0 turns it off. A second worker on the "
        "same host needs its own port (or 0): one whose port is taken runs without it and logs so.",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "CONNESKILLS_OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
        description="Turns tracing on: the base URL of an OpenTelemetry collector's OTLP/HTTP "
        "receiver (e.g. `http://otel-collector:4318`; spans go to `…/v1/traces`). The API, the "
        "gateway and the worker then trace each request through its workflow and activities, and "
        "log lines carry `trace_id`/`span_id`. Unset (the default): no tracing is set up at all. "
        "The exporter reads the other standard `OTEL_EXPORTER_OTLP_*` variables (headers, "
        "timeout) itself, the SDK `OTEL_TRACES_SAMPLER`.",
    )
    otel_service_name: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CONNESKILLS_OTEL_SERVICE_NAME", "OTEL_SERVICE_NAME"),
        description="The `service.name` of this process' spans; unset, each process names itself "
        "(`conneskills-api`, `conneskills-gateway`, `conneskills-worker`).",
    )
    audit_queue_size: int = Field(
        default=10_000,
        ge=1,
        description="Audit rows wait in this queue (per API process) to be written in batches off "
        "the request path; a full queue makes the next mutating request wait for room (after its "
        "answer) rather than drop a row.",
    )
    api_key_usage_flush_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often each API process writes its API keys' last uses (`last_used_at`), "
        "in one transaction: no request writes it itself.",
    )

    # The job log feed behind the hosting system's GET /logs/stream (api/job_log_feed.py).
    job_log_record_seconds: float = Field(
        default=1.0,
        gt=0,
        description="While a log stream is open, how often its API process lists the jobs "
        "running or ended and records their new lines (one query per job not followed); the "
        "running jobs it knows are followed through their history and recorded as they log "
        "(a job started by another API process is followed from the next pass).",
    )
    job_log_catch_up_hours: float = Field(
        default=24.0,
        gt=0,
        description="When the job log feed starts, jobs that ended since it last ran are "
        "recorded too, going back at most this far.",
    )
    log_stream_poll_seconds: float = Field(
        default=0.25,
        gt=0,
        description="While a log stream is open, how often its API process's one reader of the "
        "recorded lines looks for lines recorded by other API processes (one query for all its "
        "streams). Lines recorded by its own process are read at once, and on PostgreSQL so are "
        "other processes' (LISTEN/NOTIFY): this poll is then only the fallback.",
    )
    log_stream_keepalive_seconds: float = Field(
        default=15.0,
        gt=0,
        description="An open log stream with nothing to send sends a comment this often, so "
        "proxies keep the connection and a client that went away is noticed.",
    )

    # The seed-004 gateway (:8080) in front of the API's /api/v1/runners. The seed's own variable
    # names are accepted too, after the platform's, so a seed deployment's environment works as is.
    gateway_host: str = Field(
        default="127.0.0.1", description="The interface the runners gateway listens on."
    )
    gateway_port: int = Field(
        default=8080,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("CONNESKILLS_GATEWAY_PORT", "API_GATEWAY_PORT"),
        description="The runners gateway's port (the seed's `API_GATEWAY_PORT` too).",
    )
    gateway_upstream_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CONNESKILLS_GATEWAY_UPSTREAM_URL", "ORCHESTRATOR_URL"),
        description="The API the gateway forwards to (the seed's `ORCHESTRATOR_URL` too); "
        "`public_api_url` when unset.",
    )
    gateway_cors_origins: Annotated[list[str], NoDecode, BeforeValidator(origin_list)] = Field(
        default_factory=list,
        validation_alias=AliasChoices("CONNESKILLS_GATEWAY_CORS_ORIGINS", "CORS_ORIGINS"),
        description="Origins the gateway's CORS allows, as a JSON list or comma-separated (the "
        "seed's `CORS_ORIGINS` too; `*` allows any).",
    )
    gateway_log_level: Annotated[GatewayLogLevel, BeforeValidator(upper_case)] = Field(
        default="INFO",
        validation_alias=AliasChoices("CONNESKILLS_GATEWAY_LOG_LEVEL", "LOG_LEVEL"),
        description="The lowest level the gateway logs: DEBUG, INFO, WARNING or ERROR, any letter "
        "case (the seed's `LOG_LEVEL` too).",
    )
    gateway_retry_base_seconds: float = Field(
        default=1.0,
        ge=0,
        description="Backoff between upstream attempts: base, 2×base, 4×base (1 s, 2 s, 4 s by "
        "default).",
    )
    gateway_upstream_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="An upstream answer later than this is a 504 (not retried).",
    )
    gateway_drain_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long in-flight requests may finish after SIGTERM/SIGINT.",
    )

    # The LiteLLM proxy's admin API (customers' users and keys, agents' keys, prompts): the local
    # cloud's `/litellm` and its dev master key by default; production: the proxy's URL and key.
    litellm_base_url: str | None = Field(
        default=None,
        description="The LiteLLM proxy's admin API (customers' users and keys, agents' keys, "
        "prompts): the local cloud's `/litellm` when unset; production: the proxy's URL.",
    )
    litellm_master_key: SecretStr = Field(
        default=SecretStr("sk-localcloud-litellm-master-key"),
        description="The LiteLLM proxy's master key (the local cloud's dev key by default).",
    )
    litellm_timeout_seconds: float = Field(
        default=15.0, gt=0, description="The bound on one LiteLLM admin call."
    )
    litellm_agent_url: str | None = Field(
        default=None,
        description="What deployed agents call (their `LITELLM_URL`, e.g. "
        "`https://litellm.conneskills.com`); `litellm_base_url` when unset.",
    )
    agent_retire_wait_seconds: float = Field(
        default=20.0,
        ge=0,
        description="How long `DELETE /agents/{name}` waits for `RetireAgent`: 204 when done, else "
        "202 with the job.",
    )

    # Proxmox VE (hosting, seed 001): VMs on the cluster's nodes. The local cloud's emulator (over
    # TLS, its own CA) by default; production: a cluster node's API and an API token whose secret
    # lives in Secret Manager.
    localcloud_proxmox_port: int = Field(
        default=8006,
        description="The local cloud's TLS port for Proxmox VE `api2/json` (`--proxmox-port`).",
    )
    proxmox_endpoint: str | None = Field(
        default=None,
        description="A Proxmox VE node's API, `host:port` (proxmoxer always uses https); the "
        "local cloud's Proxmox port when unset.",
    )
    proxmox_ca_bundle: Path | None = Field(
        default=None,
        description="The CA file the Proxmox API's certificate is checked against (a cluster's "
        "`pve-root-ca.pem`): the local cloud's `<data_dir>/localcloud/tls/ca.pem` when unset with "
        "the local cloud, the system's trust store when unset with a real endpoint. TLS is "
        "always verified.",
    )
    proxmox_token_id: str = Field(
        default="root@pam!platform",
        pattern=r"^[^@!=\s]+@[^@!=\s]+![A-Za-z][A-Za-z0-9._-]*$",
        description="The API token, `USER@REALM!TOKENID` (the local cloud knows "
        "`root@pam!platform`).",
    )
    proxmox_token_secret: str = Field(
        default="proxmox-api-token",
        pattern=r"^[A-Za-z0-9_-]{1,255}$",
        description="The Secret Manager secret holding the API token's value. With the local "
        "cloud and no such secret, its development token is used.",
    )
    proxmox_storage: str = Field(
        default="local-lvm",
        description="The storage VM disks live on; node capacities report its free space.",
    )
    proxmox_timeout_seconds: float = Field(
        default=15.0, gt=0, description="The bound on one Proxmox API call."
    )
    hosting_vm_nodes: list[str] = Field(
        default=["sv1", "sv2", "sv3", "sv4", "sv5"],
        min_length=1,
        description="The Proxmox nodes a new VM may be created on; CreateVM tries them in order "
        "of free capacity (memory, then disk), the next one when a node refuses or fails.",
    )
    hosting_vm_clones_per_node: int = Field(
        default=2,
        ge=1,
        le=64,
        description="How many clones may run at once on one node, across every worker (a lease "
        "in `hosting_clone_slots`); a create waits for a free slot.",
    )
    hosting_vm_slot_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a clone slot stays taken without its activity renewing it: a "
        "worker that died holding one frees it after this.",
    )
    hosting_vm_task_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="The pause between two polls of a Proxmox task (clone, resize, power, "
        "destroy); the activity heartbeats between polls.",
    )
    hosting_vm_cores_max: int = Field(
        default=16, ge=1, le=1024, description="The most cores `POST /vm` and updates accept."
    )
    hosting_vm_memory_min_mb: int = Field(
        default=512, ge=16, description="The least memory (MiB) `POST /vm` and updates accept."
    )
    hosting_vm_memory_max_mb: int = Field(
        default=65536, ge=16, description="The most memory (MiB) `POST /vm` and updates accept."
    )
    hosting_vm_default_cores: int = Field(
        default=2, ge=1, description="Cores of a VM whose `POST /vm` names none."
    )
    hosting_vm_default_memory_mb: int = Field(
        default=2048, ge=16, description="Memory (MiB) of a VM whose `POST /vm` names none."
    )
    hosting_vm_default_disk_gb: int = Field(
        default=20, ge=10, le=500, description="Disk (GB) of a VM whose `POST /vm` names none."
    )
    hosting_vm_ha: bool = Field(
        default=True,
        description="Whether a new VM is made an HA resource of the cluster (started state); "
        "deleting a VM always takes it out of HA first.",
    )

    # Access policy applied to private services (seed 000 §1.2)
    private_access_domain: str = Field(
        default="conneskills.com",
        description="A private service's invokers: this domain (`domain:<it>`) and the onboarding "
        "service account.",
    )
    onboarding_service_account: str = Field(
        default="ai-agent-onboarding",
        description="The service account (name in `gcp_project`) that may invoke private services "
        "and that agents run as.",
    )

    # CRM ingest (seed 003).
    crm_ingest_rate_limit: str = Field(
        default="100/second",
        description="The ingest webhook's rate limit per account key (a `limits` string).",
    )
    crm_rate_limit_storage_url: str | None = Field(
        default=None,
        description="Where the rate limit's counters live: `memory://` (one count per API "
        "process), or `redis://host:port/db` shared by every API process. Unset: `redis_url` when "
        "that is set, else `memory://`.",
    )
    crm_delivery_id_header: str | None = Field(
        default=None,
        description="The header a CRM puts its delivery id in, taken as an `Idempotency-Key` when "
        "that header is absent.",
    )

    # The ops assistant (seed 002): its console's logins, its rate limit, its LLM and tools.
    assistant_jwt_secret: SecretStr | None = Field(
        default=None,
        description="The key that signs the assistant console's login tokens (HS256). When unset, "
        "`assistant_jwt_key` under `data_dir` is read, or created by the first process that "
        "needs it; every API process must share it.",
    )
    assistant_token_ttl_seconds: int = Field(
        default=86400,
        ge=60,
        le=30 * 86400,
        description="How long a console login token is valid (`expires_in` of "
        "`POST /api/auth/login`).",
    )
    assistant_admin_username: str = Field(
        default="admin",
        pattern=r"^[A-Za-z0-9_.@-]{1,64}$",
        description="The first console user, an admin, created when the API starts and no user "
        "of that name exists.",
    )
    assistant_admin_password: SecretStr | None = Field(
        default=None,
        description="That first console user's password. When unset, `assistant_admin_password` "
        "under `data_dir` is read, or generated once (`make run` prints it).",
    )
    assistant_password_time_cost: int = Field(
        default=3,
        ge=1,
        le=10,
        description="argon2id's passes for the console users' password hashes (made when the "
        "first admin is created); with `assistant_password_memory_kib`, about 0.15 s of CPU a "
        "hash at the defaults (argon2-cffi's RFC 9106 low-memory profile). A login verifies with "
        "the parameters its hash was made with.",
    )
    assistant_password_memory_kib: int = Field(
        default=65536,
        ge=64,
        le=1048576,
        description="argon2id's memory for those hashes, in KiB.",
    )
    assistant_rate_limit: str = Field(
        default="60/minute",
        description="The assistant API's rate limit per user or API key (a `limits` string; the "
        "seed's 60 per minute).",
    )
    assistant_rate_limit_storage_url: str | None = Field(
        default=None,
        description="Where the assistant rate limit's counters live: `memory://` (one count per "
        "API process), or `redis://host:port/db` shared by every API process. Unset: `redis_url` "
        "when that is set, else `memory://`.",
    )
    assistant_llm_base_url: str | None = Field(
        default=None,
        description="The OpenAI-compatible API the assistant's LLM calls go to (the LiteLLM "
        "proxy's `/v1`): the local cloud's `/litellm/v1` when unset.",
    )
    assistant_llm_api_key: SecretStr = Field(
        default=SecretStr("sk-localcloud-litellm-master-key"),
        description="The key the assistant presents to that API (a LiteLLM virtual key in "
        "production; the local cloud's dev key by default).",
    )
    assistant_llm_timeout_seconds: float = Field(
        default=60.0, gt=0, description="The bound on one LLM call of an assistant turn."
    )
    assistant_llm_models: dict[str, list[str]] = Field(
        default={
            "openai": ["gpt-4", "gpt-4o", "gpt-4o-mini"],
            "anthropic": ["claude-3-5-sonnet"],
        },
        description="The LLM providers and models `PUT /api/config` may choose from (the models "
        "the LiteLLM proxy routes); anything else is refused with 400.",
    )
    assistant_max_tool_rounds: int = Field(
        default=5,
        ge=1,
        le=20,
        description="How many times one assistant turn may go back to the LLM with tool results "
        "before it stops.",
    )
    assistant_history_messages: int = Field(
        default=40,
        ge=2,
        le=200,
        description="How many of a conversation's latest messages a turn sends to the LLM.",
    )
    assistant_turn_wait_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How long `POST /api/chat` waits for its turn: the message when done, else "
        "202 with the turn's job.",
    )
    assistant_approval_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        description="How long a turn under the `semi` autonomy level waits for the user to "
        "approve a tool call that changes things; past it the call is rejected.",
    )
    assistant_stream_poll_seconds: float = Field(
        default=0.25,
        gt=0,
        description="How often a chat stream (SSE, `/ws`) asks its turn for new events.",
    )
    assistant_ws_auth_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long `/ws` waits for its first message, `{type: auth, token}`, before "
        "closing with 1008 (policy violation).",
    )
    assistant_platform_api_url: str | None = Field(
        default=None,
        description="Where the assistant's platform tools read (this platform's API): "
        "`http://127.0.0.1:<api_port>` when unset.",
    )

    # The assistant's AWS tools (EC2 through boto3), on while `cloud_providers.aws` is enabled in
    # the assistant's configuration. The local cloud's AWS (moto's server) by default; production:
    # AWS's own endpoints with credentials kept in Secret Manager.
    localcloud_aws_port: int = Field(
        default=8093,
        description="The local cloud's port for AWS (moto's server, seeded with a few EC2 "
        "instances; `--aws-port`). Served under `make run` while AWS is the local cloud's.",
    )
    aws_endpoint_url: str | None = Field(
        default=None,
        description="An AWS endpoint to call instead of AWS's own (e.g. a moto server). When "
        "unset: the local cloud's AWS, unless `aws_credentials_secret` is set (then AWS itself).",
    )
    aws_region: str = Field(
        default="us-east-1",
        pattern=r"^[a-z]{2}(-[a-z]+)+-\d$",
        description="The AWS region the tools use when a call names none.",
    )
    aws_credentials_secret: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,255}$",
        description="The Secret Manager secret holding the AWS credentials, JSON "
        '`{"aws_access_key_id": ..., "aws_secret_access_key": ...}`, read by the worker when a '
        "tool calls AWS (never logged, never shown to the model). Unset: the local cloud's AWS "
        "with its fixed local credentials.",
    )
    # Outbound calls to URLs users give (learned APIs, webhooks): providers/outbound_http.py.
    outbound_allowed_addresses: list[str] = Field(
        default_factory=list,
        description="Addresses outbound calls to user-given URLs (learned APIs, webhooks) may "
        "reach although they are loopback, private, link-local, multicast, reserved or cloud "
        "metadata: each an IP (`10.1.2.3`), a network (`10.0.0.0/8`) or an IP with a port "
        "(`127.0.0.1:9000`, `[::1]:9000`). Empty: only public addresses.",
    )
    outbound_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        description="The largest answer an outbound call reads (an OpenAPI document, a learned "
        "operation's answer, a webhook receiver's); a longer one is refused.",
    )
    outbound_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        description="How long one outbound call may take in all, redirects included.",
    )
    outbound_max_redirects: int = Field(
        default=5,
        ge=0,
        le=20,
        description="Redirects an outbound call follows at most, each target checked again.",
    )
    webhook_retry_initial_seconds: float = Field(
        default=10.0,
        gt=0,
        description="The wait before a failed webhook delivery's second attempt; each next wait "
        "doubles, up to `webhook_retry_max_seconds`.",
    )
    webhook_retry_max_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="The longest wait between two attempts of a webhook delivery.",
    )
    webhook_retry_for_seconds: float = Field(
        default=86_400.0,
        gt=0,
        description="How long a webhook delivery keeps trying (from its first attempt) before it "
        "is given up as failed.",
    )

    # Customers (seed 000 §3).
    jira_base_url: str | None = Field(
        default=None,
        description="The Jira Cloud site customer portals are made on "
        "(`https://<site>.atlassian.net`); the local cloud's `/jira` when unset.",
    )
    jira_email: str = Field(
        default="platform@conneskills.local",
        description="The Jira account's email (Basic auth, as Jira Cloud wants).",
    )
    jira_api_token: SecretStr | None = Field(
        default=SecretStr("local-jira-token"),
        description="The Jira account's API token (the local cloud's dev token by default).",
    )
    zenml_mysql_url: SecretStr = Field(
        default=SecretStr("mysql://root@127.0.0.1:3306"),
        description="The MySQL/MariaDB admin account that creates each customer's ZenML database "
        "and user.",
    )
    zenml_mysql_host_for_server: str | None = Field(
        default=None,
        description="The host the ZenML server reaches that MySQL at (e.g. a private IP); the "
        "host of `zenml_mysql_url` when unset.",
    )
    zenml_server_image: str = Field(
        default="zenmldocker/zenml-server:0.98.0",
        description="The customers' ZenML server image.",
    )
    customer_offboard_wait_seconds: float = Field(
        default=20.0,
        ge=0,
        description="`DELETE /customers/{id}` answers 204 when offboarding ends within this time, "
        "else 202 with the job.",
    )

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
    def resolved_crm_rate_limit_storage_url(self) -> str:
        return self.crm_rate_limit_storage_url or self.redis_url or "memory://"

    @property
    def resolved_assistant_rate_limit_storage_url(self) -> str:
        return self.assistant_rate_limit_storage_url or self.redis_url or "memory://"

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
    def resolved_hosting_workspaces_dir(self) -> Path:
        return (self.hosting_workspaces_dir or self.data_dir / "hosting" / "services").resolve()

    @property
    def resolved_hosting_uploads_dir(self) -> Path:
        return (self.hosting_uploads_dir or self.data_dir / "hosting" / "uploads").resolve()

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
    def proxmox_is_local(self) -> bool:
        """Whether Proxmox VE is the local cloud's emulator."""
        return self.proxmox_endpoint is None

    @property
    def resolved_proxmox_endpoint(self) -> str:
        return self.proxmox_endpoint or f"{self.localcloud_host}:{self.localcloud_proxmox_port}"

    @property
    def resolved_proxmox_ca_bundle(self) -> Path | None:
        """The CA file to trust; None means the system's trust store."""
        if self.proxmox_ca_bundle is not None or not self.proxmox_is_local:
            return self.proxmox_ca_bundle
        return self.data_dir / "localcloud" / "tls" / "ca.pem"

    @property
    def aws_is_local(self) -> bool:
        """Whether AWS is the local cloud's (moto's server, no real credentials)."""
        return self.aws_endpoint_url is None and self.aws_credentials_secret is None

    @property
    def resolved_aws_endpoint_url(self) -> str | None:
        """The endpoint boto3 is given; None means AWS's own."""
        if self.aws_is_local:
            return f"http://{self.localcloud_host}:{self.localcloud_aws_port}"
        return self.aws_endpoint_url

    @property
    def resolved_litellm_base_url(self) -> str:
        return (self.litellm_base_url or f"{self.localcloud_url}/litellm").rstrip("/")

    @property
    def resolved_assistant_llm_base_url(self) -> str:
        return (self.assistant_llm_base_url or f"{self.localcloud_url}/litellm/v1").rstrip("/")

    @property
    def resolved_assistant_platform_api_url(self) -> str:
        return (self.assistant_platform_api_url or f"http://127.0.0.1:{self.api_port}").rstrip("/")

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
