"""Applies a ServiceSpec onto a Cloud Run v2 Service: only the fields the spec sets change."""

from __future__ import annotations

from google.cloud import run_v2
from google.protobuf import duration_pb2

from contracts.provisioning.services import ServiceSpec

MANAGED_BY_LABEL = "managed-by"
MANAGED_BY = "conneskills-platform"
# Labels the platform sets itself on every service; a request may not set them.
RESERVED_LABELS = frozenset({MANAGED_BY_LABEL})


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


def apply_spec(spec: ServiceSpec, current: run_v2.Service | None) -> run_v2.Service:
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
