"""Applies a ServiceSpec onto a Cloud Run v2 Service: only the fields the spec sets change."""

from __future__ import annotations

import hashlib
import re

from google.cloud import run_v2
from google.protobuf import duration_pb2

from contracts.provisioning.services import ServiceSpec

MANAGED_BY_LABEL = "managed-by"
MANAGED_BY = "conneskills-platform"
# The job whose configuration the service carries now: the one that created it, or the last one that
# changed it. A compensation undoes only what its own job applied (the key the job's secrets use).
JOB_LABEL = "job-id"
# Labels the platform sets itself on every service; a request may not set them.
RESERVED_LABELS = frozenset({MANAGED_BY_LABEL, JOB_LABEL})
# Google's rule for a label value: at most 63 lowercase letters, digits, `_` and `-`.
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{1,63}$")


def job_label_value(job_id: str) -> str:
    """The job id itself when it is a valid label value (every job id the platform makes is), else
    a digest of it that still tells jobs apart."""
    if _LABEL_VALUE.match(job_id):
        return job_id
    return "job-" + hashlib.sha256(job_id.encode()).hexdigest()[:40]


def applied_by(service: run_v2.Service | None, job_id: str) -> bool:
    """Whether the service is as `job_id` left it: created or last changed by that job."""
    return service is not None and service.labels.get(JOB_LABEL) == job_label_value(job_id)


def _merge_env(container: run_v2.Container, spec: ServiceSpec) -> None:
    env = {var.name: var for var in container.env}
    for name, value in (spec.env_vars or {}).items():
        env[name] = run_v2.EnvVar(name=name, value=value)
    for name, ref in (spec.secrets or {}).items():
        secret, _, version = ref.partition(":")
        env[name] = run_v2.EnvVar(
            name=name,
            value_source=run_v2.EnvVarSource(
                secret_key_ref=run_v2.SecretKeySelector(secret=secret, version=version or "latest")
            ),
        )
    del container.env[:]
    container.env.extend(env[name] for name in sorted(env))


def apply_spec(spec: ServiceSpec, current: run_v2.Service | None, job_id: str) -> run_v2.Service:
    # A copy, so the caller's snapshot of the current service stays intact for compensation.
    service = run_v2.Service(current) if current is not None else run_v2.Service()
    template = service.template
    if not template.containers:
        template.containers.append(run_v2.Container())
    container = template.containers[0]

    if spec.image:
        container.image = spec.image
    if spec.port:
        del container.ports[:]
        container.ports.append(run_v2.ContainerPort(container_port=spec.port))
    if current is None:
        # Cloud Run allocates CPU only during requests by default, but a request that sets any
        # resources must say so itself, or the new service is billed for always-on CPU.
        container.resources.cpu_idle = True
    if spec.cpu:
        container.resources.limits["cpu"] = spec.cpu
    if spec.memory:
        container.resources.limits["memory"] = spec.memory
    if spec.env_vars or spec.secrets:
        _merge_env(container, spec)
    if spec.min_instances is not None:
        template.scaling.min_instance_count = spec.min_instances
    if spec.max_instances is not None:
        template.scaling.max_instance_count = spec.max_instances
    if spec.concurrency is not None:
        template.max_instance_request_concurrency = spec.concurrency
    if spec.timeout_seconds is not None:
        template.timeout = duration_pb2.Duration(seconds=spec.timeout_seconds)
    if spec.service_account:
        template.service_account = spec.service_account
    for key, value in (spec.labels or {}).items():
        service.labels[key] = value
    service.labels[MANAGED_BY_LABEL] = MANAGED_BY
    service.labels[JOB_LABEL] = job_label_value(job_id)
    return service


def for_create(service: run_v2.Service) -> run_v2.Service:
    """Cloud Run refuses a create request whose service carries a name or output-only fields."""
    return run_v2.Service(
        template=service.template,
        labels=service.labels,
        annotations=service.annotations,
        ingress=service.ingress,
        traffic=service.traffic,
        description=service.description,
    )
