"""What Cloud Run Admin API v2 refuses in a Service, checked on create and update like the real API.

Every rule below is one Cloud Run documents; the emulator must not let a job complete locally that
production would refuse. Sources (cloud.google.com/run/docs/...):

- Locations (`/locations`): the region ids in `REGIONS` (tier 1 and tier 2). An unknown location
  answers **400 INVALID_ARGUMENT "Location X is not valid"**, the answer real Cloud Run gives for
  e.g. `mars-north1` (chosen over a 404: the location is an argument of the request, not a resource
  the caller looked up). Only create and update check it; reads of an unknown location find nothing.
- Images (`/deploying#images`, `/container-contract`): `[host/]repo-path[:tag][@sha256:digest]` in
  the Docker reference grammar (lowercase path components, tag `[\\w][\\w.-]{0,127}`, repository
  name at most 255 characters, no whitespace or control characters), where host is one of
  `[region.]gcr.io`, `[region-]docker.pkg.dev` or `docker.io` (no host = Docker Hub). Other
  registries need an Artifact Registry remote repository, so a `ghcr.io/...` image is refused, with
  the wording Cloud Run uses.
- Memory (`/configuring/services/memory-limits`): a Kubernetes quantity, 128 MiB to 32 GiB
  (512 MiB minimum in the second-generation execution environment); more than 4/8/16/24 GiB needs
  at least 2/4/6/8 CPUs.
- CPU (`/configuring/services/cpu`): 1, 2, 4, 6 or 8 (`"2"`, `"2000m"`), or a fraction from 0.08 to
  below 1 in millicore steps (`"0.5"`, `"500m"`); at most 8. 4/6/8 CPUs need at least 2/3/4 GiB.
  Below 1 CPU: memory above 512 MiB needs 0.5 CPU and above 1 GiB needs 1 CPU, concurrency must be
  1, CPU must be allocated only during requests (`cpuIdle`), and the first-generation environment.
  (Some pages now say "any integer up to 8"; the values gcloud documents are the ones kept.)
- Environment variables (`/configuring/services/environment-variables`): names are Kubernetes env
  names (letters, digits, `_`, `-`, `.`, not starting with a digit, no `=` or whitespace), not
  starting with `X_GOOGLE_` and not the reserved `PORT`, `K_SERVICE`, `K_REVISION`,
  `K_CONFIGURATION`; at most 1000 per container.
- Ports (`/configuring/services/containers#configure-port`): 0 or 1 port per container, 1..65535.
- Concurrency (`/about-concurrency`): `max_instance_request_concurrency` 0 (default) to 1000.
- Request timeout (`/configuring/request-timeout`): at most 3600 s, not negative.
- Scaling (`/configuring/min-instances`, `/max-instances`): counts are not negative and the minimum
  does not exceed a set maximum, on the template and on the service.
- Service identity (`/securing/service-identity`): a service account email,
  `NAME@PROJECT.iam.gserviceaccount.com`, `NUMBER-compute@developer.gserviceaccount.com` or
  `PROJECT@appspot.gserviceaccount.com`.
- Labels (`/resource-manager/docs/labels-overview`): at most 64; keys start with a lowercase
  letter and hold lowercase letters, digits, `_` and `-`, at most 63 characters; values the same
  characters, may be empty, at most 63. Service labels and revision (template) labels alike.

Errors name the field the way Cloud Run v2 does:
`Violation in CreateServiceRequest.service.template.containers[0].image: ...`, and carry a
`google.rpc.BadRequest` detail with one field violation per problem.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from localcloud.errors import ApiError

# Cloud Run regions (cloud.google.com/run/docs/locations), tier 1 then tier 2.
REGIONS = frozenset(
    {
        # Tier 1
        "asia-east1",
        "asia-northeast1",
        "asia-northeast2",
        "europe-north1",
        "europe-north2",
        "europe-southwest1",
        "europe-west1",
        "europe-west4",
        "europe-west8",
        "europe-west9",
        "me-west1",
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        # Tier 2
        "africa-south1",
        "asia-east2",
        "asia-northeast3",
        "asia-south1",
        "asia-south2",
        "asia-southeast1",
        "asia-southeast2",
        "australia-southeast1",
        "australia-southeast2",
        "europe-central2",
        "europe-west2",
        "europe-west3",
        "europe-west6",
        "europe-west10",
        "europe-west12",
        "me-central1",
        "me-central2",
        "northamerica-northeast1",
        "northamerica-northeast2",
        "northamerica-south1",
        "southamerica-east1",
        "southamerica-west1",
        "us-west2",
        "us-west3",
        "us-west4",
    }
)

MI = 1024**2
GI = 1024**3
MEMORY_MIN = 128 * MI
MEMORY_MIN_GEN2 = 512 * MI
MEMORY_MAX = 32 * GI
CPU_WHOLE = (1000, 2000, 4000, 6000, 8000)  # millicores
CPU_FRACTION_MIN = 80
# (memory above, CPUs needed), and (CPUs, memory needed), in bytes and millicores.
CPU_FOR_MEMORY = ((24 * GI, 8000), (16 * GI, 6000), (8 * GI, 4000), (4 * GI, 2000))
MEMORY_FOR_CPU = ((8000, 4 * GI), (6000, 3 * GI), (4000, 2 * GI))
CONCURRENCY_MAX = 1000
TIMEOUT_MAX_SECONDS = 3600
ENV_MAX = 1000
RESERVED_ENV = frozenset({"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"})
LABELS_MAX = 64
LABEL_MAX_CHARS = 63
IMAGE_NAME_MAX = 255

_QUANTITY = re.compile(r"^(?P<number>\d+(?:\.\d*)?|\.\d+)(?P<suffix>[KMGTPE]i|[numkMGTPE]|)$")
_SUFFIX = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    **{f"{p}i": Decimal(1024 ** (i + 1)) for i, p in enumerate("KMGTPE")},
}
_CPU = re.compile(r"^(?:\d+(?:\.\d+)?|\.\d+|\d+m)$")
# Docker reference grammar (github.com/distribution/reference), Cloud Run taking sha256 digests.
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"^{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?$")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_ALLOWED_HOST = re.compile(
    r"^(?:(?:[a-z]+\.)?gcr\.io|(?:[a-z0-9-]+-)?docker\.pkg\.dev|docker\.io)$"
)
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_PROJECT = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"
_SERVICE_ACCOUNT = re.compile(
    rf"^(?:[a-z][a-z0-9-]{{4,28}}[a-z0-9]@{_PROJECT}(?:\.[a-z0-9-]+)*\.iam\.gserviceaccount\.com"
    r"|\d+-compute@developer\.gserviceaccount\.com"
    rf"|{_PROJECT}@appspot\.gserviceaccount\.com)$"
)


class Violations:
    """Collects `(field, description)` pairs under a request's name, raised as one 400."""

    def __init__(self, request_kind: str) -> None:
        self.prefix = f"Violation in {request_kind}ServiceRequest.service"
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, description: str) -> None:
        self.items.append((f"{self.prefix}.{field}", description))

    def raise_any(self) -> None:
        if not self.items:
            return
        message = "; ".join(f"{field}: {description}" for field, description in self.items)
        detail = {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": f, "description": d} for f, d in self.items],
        }
        raise ApiError("INVALID_ARGUMENT", message, details=[detail])


def check_location(location: str) -> None:
    if location not in REGIONS:
        raise ApiError("INVALID_ARGUMENT", f"Location {location} is not valid")


def check_service(service: dict[str, Any], request_kind: str) -> None:
    """Raise a 400 naming every field of `service` (canonical proto JSON) Cloud Run would refuse.

    `request_kind` is `Create` or `Update`, as in `Violation in CreateServiceRequest...`.
    """
    found = Violations(request_kind)
    _labels(found, "labels", service.get("labels") or {})
    _scaling(found, "scaling", service.get("scaling") or {})
    template = service.get("template") or {}
    _labels(found, "template.labels", template.get("labels") or {})
    _scaling(found, "template.scaling", template.get("scaling") or {})
    concurrency = template.get("maxInstanceRequestConcurrency", 0)
    if not 0 <= concurrency <= CONCURRENCY_MAX:
        found.add(
            "template.max_instance_request_concurrency",
            f"must be between 0 and {CONCURRENCY_MAX}, got {concurrency}.",
        )
    if "timeout" in template:
        seconds = _duration_seconds(template["timeout"])
        if seconds is None or not 0 <= seconds <= TIMEOUT_MAX_SECONDS:
            found.add(
                "template.timeout",
                f"must be a duration of at most {TIMEOUT_MAX_SECONDS}s, got {template['timeout']!r}.",
            )
    account = template.get("serviceAccount")
    if account and not _SERVICE_ACCOUNT.match(account):
        found.add(
            "template.service_account",
            f"{_shown(account)} is not a valid service account email; expected "
            "NAME@PROJECT_ID.iam.gserviceaccount.com.",
        )
    gen2 = template.get("executionEnvironment") == "EXECUTION_ENVIRONMENT_GEN2"
    total_cpu = total_memory = 0
    cpu_idle = True
    for index, container in enumerate(template.get("containers") or []):
        where = f"template.containers[{index}]"
        _image(found, f"{where}.image", container.get("image", ""))
        _ports(found, f"{where}.ports", container.get("ports") or [])
        _env(found, f"{where}.env", container.get("env") or [])
        resources = container.get("resources") or {}
        cpu_idle = cpu_idle and resources.get("cpuIdle", False)
        limits = resources.get("limits") or {}
        cpu = _cpu(found, f"{where}.resources.limits.cpu", limits.get("cpu"))
        memory = _memory(found, f"{where}.resources.limits.memory", limits.get("memory"), gen2)
        total_cpu += cpu or 0
        total_memory += memory or 0
    if not found.items and total_cpu and total_memory:
        _cpu_and_memory(found, total_cpu, total_memory, concurrency, cpu_idle, gen2)
    found.raise_any()


def _image(found: Violations, field: str, image: str) -> None:
    problem = image_problem(image)
    if problem:
        found.add(field, problem)


def image_problem(image: str) -> str | None:
    """Why Cloud Run would refuse `image` as a container image reference, or None."""
    expected = (
        "Expected an image path like [host/]repo-path[:tag and/or @digest], where host is one of "
        f"[region.]gcr.io, [region-]docker.pkg.dev or docker.io but obtained {_shown(image)}."
    )
    if not image:
        return "an image must be specified."
    if any(c.isspace() or not c.isprintable() for c in image):
        return f"{expected} An image reference cannot contain whitespace or control characters."
    rest, _, digest = image.partition("@")
    if digest and not _DIGEST.match(digest):
        return f"{expected} The digest must be sha256: followed by 64 lowercase hex digits."
    name, tag = rest, ""
    if ":" in rest.rsplit("/", 1)[-1]:
        name, _, tag = rest.rpartition(":")
        if not _TAG.match(tag):
            return f"{expected} Invalid tag {_shown(tag)}."
    if len(name) > IMAGE_NAME_MAX:
        return f"{expected} The repository name must be at most {IMAGE_NAME_MAX} characters."
    parts = name.split("/")
    host = ""
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        host, parts = parts[0], parts[1:]
        if not _DOMAIN.match(host):
            return expected
    if not parts or not all(_PATH_COMPONENT.match(p) for p in parts):
        return expected
    if host and not _ALLOWED_HOST.match(host):
        return expected
    return None


def _ports(found: Violations, field: str, ports: list[dict[str, Any]]) -> None:
    if len(ports) > 1:
        found.add(field, "ports should contain 0 or 1 port.")
    for index, port in enumerate(ports):
        number = port.get("containerPort", 0)
        if not 1 <= number <= 65535 and number != 0:
            found.add(
                f"{field}[{index}].container_port", f"must be between 1 and 65535, got {number}."
            )


def _env(found: Violations, field: str, env: list[dict[str, Any]]) -> None:
    if len(env) > ENV_MAX:
        found.add(field, f"at most {ENV_MAX} environment variables are allowed.")
    for index, var in enumerate(env):
        name = var.get("name", "")
        where = f"{field}[{index}].name"
        if not name:
            found.add(where, "an environment variable name must be specified.")
        elif not _ENV_NAME.match(name):
            found.add(
                where,
                f"{_shown(name)} is not a valid environment variable name: letters, digits, '_', "
                "'-' and '.', not starting with a digit.",
            )
        elif name in RESERVED_ENV:
            found.add(where, f"{name} is a reserved environment variable name.")
        elif name.startswith("X_GOOGLE_"):
            found.add(where, f"{name}: names starting with X_GOOGLE_ are reserved.")


def _cpu(found: Violations, field: str, value: Any) -> int | None:
    """Millicores, or None (and a violation) when Cloud Run would refuse the value."""
    if value is None:
        return None
    text = str(value)
    millis = None
    if _CPU.match(text):
        amount = _quantity(text)
        if amount is not None and amount == amount.quantize(Decimal("0.001")):
            millis = int(amount * 1000)
    if millis is None or not (millis in CPU_WHOLE or (CPU_FRACTION_MIN <= millis < CPU_WHOLE[0])):
        found.add(
            field,
            f"Invalid value specified for cpu: {_shown(text)}. Cloud Run supports 1, 2, 4, 6 or "
            '8 CPUs (e.g. "2" or "2000m"), or a fraction of one CPU from 0.08 (e.g. "0.5" or '
            '"500m").',
        )
        return None
    return millis


def _memory(found: Violations, field: str, value: Any, gen2: bool) -> int | None:
    """Bytes, or None (and a violation) when Cloud Run would refuse the value."""
    if value is None:
        return None
    text = str(value)
    match = _QUANTITY.match(text)
    amount = _quantity(text) if match else None
    if amount is None:
        found.add(
            field,
            f"Invalid value specified for memory: {_shown(text)}. Use a quantity like 512Mi or 2Gi.",
        )
        return None
    low = MEMORY_MIN_GEN2 if gen2 else MEMORY_MIN
    if not low <= amount <= MEMORY_MAX:
        environment = "the second generation execution environment" if gen2 else "Cloud Run"
        found.add(
            field,
            f"Invalid value specified for memory: {text}. For {environment}, memory must be "
            f"between {low // MI}Mi and {MEMORY_MAX // GI}Gi.",
        )
        return None
    return int(amount)


def _cpu_and_memory(
    found: Violations, cpu: int, memory: int, concurrency: int, cpu_idle: bool, gen2: bool
) -> None:
    field = "template.containers[0].resources.limits"
    for above, needed in CPU_FOR_MEMORY:
        if memory > above and cpu < needed:
            found.add(
                field,
                f"memory above {above // GI}Gi requires at least {needed // 1000} CPUs, "
                f"got {_cpus(cpu)}.",
            )
            break
    for cpus, needed in MEMORY_FOR_CPU:
        if cpu >= cpus and memory < needed:
            found.add(field, f"{cpus // 1000} CPUs require at least {needed // GI}Gi of memory.")
            break
    if cpu >= 1000:
        return
    if memory > GI or (memory > 512 * MI and cpu < 500):
        found.add(
            field,
            f"{_cpus(cpu)} CPU supports at most {'1Gi' if cpu >= 500 else '512Mi'} of memory.",
        )
    if concurrency != 1:
        found.add(
            "template.max_instance_request_concurrency",
            f"Total cpu < 1 is not supported with concurrency > 1 (got {concurrency or 80}).",
        )
    if not cpu_idle:
        found.add(
            f"{field}.cpu", "cpu < 1 requires CPU to be allocated only during request processing."
        )
    if gen2:
        found.add(
            "template.execution_environment",
            "cpu < 1 is not supported in the second generation execution environment.",
        )


def _labels(found: Violations, field: str, labels: dict[str, str]) -> None:
    if len(labels) > LABELS_MAX:
        found.add(field, f"at most {LABELS_MAX} labels are allowed, got {len(labels)}.")
    for key, value in labels.items():
        if not _label_text(key) or not key[0].isalpha():
            found.add(
                field,
                f"Invalid label key {_shown(key)}: keys must start with a lowercase letter, hold "
                f"only lowercase letters, digits, '_' and '-', and be 1-{LABEL_MAX_CHARS} "
                "characters long.",
            )
        elif not (value == "" or _label_text(value)):
            found.add(
                field,
                f"Invalid value for label {key}: values hold only lowercase letters, digits, '_' "
                f"and '-', at most {LABEL_MAX_CHARS} characters.",
            )


def _label_text(text: str) -> bool:
    # Google labels allow international lowercase letters, so no ASCII-only regex.
    return 0 < len(text) <= LABEL_MAX_CHARS and all(
        (c.isalpha() and c.islower()) or c.isdigit() or c in "_-" for c in text
    )


def _scaling(found: Violations, field: str, scaling: dict[str, Any]) -> None:
    low = scaling.get("minInstanceCount", 0)
    high = scaling.get("maxInstanceCount", 0)
    if low < 0:
        found.add(f"{field}.min_instance_count", f"must not be negative, got {low}.")
    if high < 0:
        found.add(f"{field}.max_instance_count", f"must not be negative, got {high}.")
    if high > 0 and low > high:
        found.add(
            f"{field}.min_instance_count",
            f"min_instance_count ({low}) must not exceed max_instance_count ({high}).",
        )


def _quantity(text: str) -> Decimal | None:
    match = _QUANTITY.match(text)
    if not match:
        return None
    try:
        return Decimal(match["number"]) * _SUFFIX[match["suffix"]]
    except InvalidOperation:
        return None


def _duration_seconds(value: Any) -> float | None:
    text = str(value)
    if not text.endswith("s"):
        return None
    try:
        return float(text[:-1])
    except ValueError:
        return None


def _cpus(millis: int) -> str:
    return f"{millis / 1000:g}"


def _shown(value: str) -> str:
    # Quote and escape like a repr so control characters show; long values are cut.
    shown = repr(value[:200])
    return shown if len(value) <= 200 else shown + "..."
