"""Plans before changes: what a deploy or update would change on a Cloud Run service, field by
field, against what runs now, and a digest of both (`plan_hash`).

One function for both layers: the API's dry run (`?dry_run=true`) answers `plan_service`, and the
`DeployService` job, once it has its turn on the service, recomputes the same plan from the live
state (`CloudRunSteps.PLAN_HASH`) and refuses to go on if the digest differs ("stale plan").

The digest covers the compared configuration *before* (the live service and its invokers) and
*after* (the request applied with the same merge rules as the job, `cloud_run_spec.apply_spec`), so
any change to a compared field of the live service in between makes the plan stale, even one the
request does not touch. The platform's own labels (`managed-by`, `job-id`) are left out: they change
with every job and say nothing about the configuration.

Secret references appear as `secret:version`: names only; the platform never reads a secret value
for a plan. Plain environment variables show their values, as `GET …/details` does.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from google.cloud import run_v2

from contracts.provisioning.services import PlanChange, ServicePlan, ServiceSpec
from core.settings import Settings
from providers.google.cloud_run_spec import RESERVED_LABELS, apply_spec

# Any job id works: the job label it sets is one of the platform's own, left out of the diff.
_PLAN_JOB = "plan"
_SCALARS = (
    "image",
    "port",
    "cpu",
    "memory",
    "min_instances",
    "max_instances",
    "concurrency",
    "timeout_seconds",
    "service_account",
)
_MAPS = ("env", "secrets", "labels")
ACCESS = "access.invokers"


def invokers_for(settings: Settings, public: bool) -> list[str]:
    """The invoker members the platform sets: public `allUsers`; private the domain and the
    onboarding service account."""
    if public:
        return ["allUsers"]
    return sorted(
        [
            f"domain:{settings.private_access_domain}",
            f"serviceAccount:{settings.onboarding_service_account_email}",
        ]
    )


def configuration(service: run_v2.Service) -> dict[str, Any]:
    """The compared fields of a service's configuration."""
    template = service.template
    container = template.containers[0] if template.containers else run_v2.Container()
    env, secrets = {}, {}
    for var in container.env:
        ref = var.value_source.secret_key_ref
        if ref.secret:
            secrets[var.name] = f"{ref.secret}:{ref.version or 'latest'}"
        else:
            env[var.name] = var.value
    limits = container.resources.limits
    return {
        "image": container.image or None,
        "port": container.ports[0].container_port if container.ports else None,
        "cpu": limits.get("cpu"),
        "memory": limits.get("memory"),
        "min_instances": template.scaling.min_instance_count,
        "max_instances": template.scaling.max_instance_count or None,
        "concurrency": template.max_instance_request_concurrency or None,
        "timeout_seconds": int(template.timeout.total_seconds()) if template.timeout else None,
        "service_account": template.service_account or None,
        "env": env,
        "secrets": secrets,
        "labels": {k: v for k, v in service.labels.items() if k not in RESERVED_LABELS},
    }


def _diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[PlanChange]:
    old = before or {}
    changes = []

    def one(field: str, was: Any, now: Any) -> None:
        if was == now:
            return
        change = "add" if was is None else "remove" if now is None else "update"
        changes.append(PlanChange(field=field, change=change, before=was, after=now))

    for field in _SCALARS:
        one(field, old.get(field), after.get(field))
    for group in _MAPS:
        was, now = old.get(group) or {}, after.get(group) or {}
        for name in sorted(set(was) | set(now)):
            one(f"{group}.{name}", was.get(name), now.get(name))
    one(ACCESS, old.get(ACCESS), after.get(ACCESS))
    return changes


def plan_hash(region: str, name: str, before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"region": region, "service": name, "before": before, "after": after},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan_service(
    settings: Settings,
    spec: ServiceSpec,
    region: str,
    current: run_v2.Service | None,
    current_invokers: list[str] | None,
) -> ServicePlan:
    """The plan of applying `spec` to `current` (None: the service does not exist), pure."""
    before = None
    if current is not None:
        before = configuration(current) | {ACCESS: sorted(current_invokers or [])}
    after = configuration(apply_spec(spec, current, _PLAN_JOB))
    public = spec.allow_public_access
    if public is None and current is None:
        public = False  # as the job: a new service is private unless asked otherwise
    if public is None:
        after[ACCESS] = before[ACCESS] if before else []
    else:
        after[ACCESS] = invokers_for(settings, public)
    return ServicePlan(
        service_name=spec.service_name,
        region=region,
        action="create" if current is None else "update",
        changes=_diff(before, after),
        plan_hash=plan_hash(region, spec.service_name, before, after),
    )
