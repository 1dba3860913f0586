"""What Cloud Run accepts for a service's image, CPU, memory, region and service account, checked
before a job starts so that a request Cloud Run would refuse is a 400, not a job that fails later
(or completes against the local cloud and fails in production). Pure functions, no client: the API's
request schemas use them, and so may anything else that needs the rule.

Sources: Cloud Run's "Configure CPU limits" and "Configure memory limits" pages (memory 128Mi–32Gi;
CPU 0.08–<1 in steps of 0.01, or 1, 2, 4, 6, 8; memory above 4/8/16/24 GiB needs at least 2/4/6/8
CPUs, and 4/6/8 CPUs need at least 2/4/4 GiB), the Cloud Run locations page, and the OCI
distribution reference grammar for images.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Every region Cloud Run serves (https://cloud.google.com/run/docs/locations).
CLOUD_RUN_REGIONS = frozenset(
    {
        "africa-south1",
        "asia-east1",
        "asia-east2",
        "asia-northeast1",
        "asia-northeast2",
        "asia-northeast3",
        "asia-south1",
        "asia-south2",
        "asia-southeast1",
        "asia-southeast2",
        "australia-southeast1",
        "australia-southeast2",
        "europe-central2",
        "europe-north1",
        "europe-north2",
        "europe-southwest1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west8",
        "europe-west9",
        "europe-west10",
        "europe-west12",
        "me-central1",
        "me-central2",
        "me-west1",
        "northamerica-northeast1",
        "northamerica-northeast2",
        "northamerica-south1",
        "southamerica-east1",
        "southamerica-west1",
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        "us-west2",
        "us-west3",
        "us-west4",
    }
)

MAX_IMAGE_LENGTH = 1024
# The OCI/Docker reference grammar: [registry[:port]/]path[:tag][@algorithm:hex].
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_PART}(?:/{_PATH_PART})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}"
IMAGE_PATTERN = re.compile(rf"(?P<name>{_NAME})(?::{_TAG})?(?:@(?:{_DIGEST}))?")
# The same grammar as a JSON-schema pattern (ECMA 262: no named groups, `\w` spelled out).
IMAGE_REFERENCE = rf"^{_NAME}(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?(?:@(?:{_DIGEST}))?$"
MAX_IMAGE_NAME_LENGTH = 255
# Cloud Run pulls only from Container Registry, Artifact Registry and Docker Hub.
_ALLOWED_HOST = re.compile(r"(?:[a-z]+\.)?gcr\.io|(?:[a-z0-9-]+-)?docker\.pkg\.dev|docker\.io")

MIN_MEMORY = 128 * 2**20
MAX_MEMORY = 32 * 2**30
_MEMORY_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}
_MEMORY = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<unit>Ki|Mi|Gi|k|M|G)")
WHOLE_CPUS = (1, 2, 4, 6, 8)
_CPU = re.compile(r"(?P<millis>[0-9]+)m|(?P<cpus>[0-9]+(?:\.[0-9]+)?)")
# (memory above, CPUs needed): Cloud Run's minimum CPU for a memory limit.
_CPU_FOR_MEMORY = ((24 * 2**30, 8), (16 * 2**30, 6), (8 * 2**30, 4), (4 * 2**30, 2))
# CPUs → the least memory Cloud Run allows with them.
_MEMORY_FOR_CPU = {4: 2 * 2**30, 6: 4 * 2**30, 8: 4 * 2**30}

# IAM service account emails: `name@project.iam.gserviceaccount.com`, the default compute account
# `123-compute@developer.gserviceaccount.com`, and Google-managed ones; no quotes, spaces or case.
SERVICE_ACCOUNT_PATTERN = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\.gserviceaccount\.com"
)


class CloudRunRuleError(ValueError):
    """A value Cloud Run would refuse; the message says what it accepts."""


def check_image(image: str) -> str:
    match = IMAGE_PATTERN.fullmatch(image) if len(image) <= MAX_IMAGE_LENGTH else None
    if match is None or len(match.group("name")) > MAX_IMAGE_NAME_LENGTH:
        raise CloudRunRuleError(
            "image must be a container image reference: [registry/]repository[:tag][@sha256:digest]"
            ", lowercase repository, no spaces or control characters"
        )
    first, _, rest = match.group("name").partition("/")
    has_host = rest and ("." in first or ":" in first or first == "localhost")
    if has_host and not _ALLOWED_HOST.fullmatch(first):
        raise CloudRunRuleError(
            "image must come from [region.]gcr.io, [region-]docker.pkg.dev or docker.io "
            "(the registries Cloud Run pulls from)"
        )
    return image


def memory_bytes(memory: str) -> int:
    match = _MEMORY.fullmatch(memory)
    if match is None:
        raise CloudRunRuleError("memory must be a quantity such as 512Mi or 2Gi")
    return int(Decimal(match.group("number")) * _MEMORY_UNITS[match.group("unit")])


def check_memory(memory: str) -> str:
    if not MIN_MEMORY <= memory_bytes(memory) <= MAX_MEMORY:
        raise CloudRunRuleError("memory must be between 128Mi and 32Gi")
    return memory


def cpu_millis(cpu: str) -> int:
    match = _CPU.fullmatch(cpu)
    try:
        if match is None:
            raise InvalidOperation
        if match.group("millis") is not None:
            return int(match.group("millis"))
        return int(Decimal(match.group("cpus")) * 1000)
    except InvalidOperation:
        raise CloudRunRuleError("cpu must be a number of CPUs such as 1 or 0.5, or 500m") from None


def check_cpu(cpu: str) -> str:
    millis = cpu_millis(cpu)
    fractional = 80 <= millis < 1000 and millis % 10 == 0
    if not fractional and millis not in {n * 1000 for n in WHOLE_CPUS}:
        raise CloudRunRuleError(
            "cpu must be 1, 2, 4, 6 or 8, or a fraction from 0.08 to below 1 in steps of 0.01"
        )
    return cpu


def check_cpu_and_memory(cpu: str, memory: str) -> None:
    millis, size = cpu_millis(cpu), memory_bytes(memory)
    for above, cpus in _CPU_FOR_MEMORY:
        if size > above and millis < cpus * 1000:
            raise CloudRunRuleError(f"memory {memory} needs at least {cpus} CPUs")
    least = _MEMORY_FOR_CPU.get(millis // 1000) if millis % 1000 == 0 else None
    if least and size < least:
        raise CloudRunRuleError(f"{millis // 1000} CPUs need at least {least // 2**30}Gi of memory")


def check_fractional_cpu(cpu: str, memory: str | None, concurrency: int | None) -> None:
    """Below one CPU, Cloud Run serves one request at a time and caps memory (1Gi; 512Mi below
    half a CPU)."""
    millis = cpu_millis(cpu)
    if millis >= 1000:
        return
    if concurrency != 1:
        raise CloudRunRuleError(f"cpu {cpu} (below 1) needs concurrency 1")
    if memory is not None:
        cap = 2**30 if millis >= 500 else 512 * 2**20
        if memory_bytes(memory) > cap:
            raise CloudRunRuleError(
                f"cpu {cpu} supports at most {'1Gi' if millis >= 500 else '512Mi'} of memory"
            )


def check_region(region: str) -> str:
    if region not in CLOUD_RUN_REGIONS:
        raise CloudRunRuleError(
            f"region must be a Cloud Run region such as us-central1 or europe-west1, "
            f"not {region!r:.40}"
        )
    return region


def check_service_account(email: str) -> str:
    if not SERVICE_ACCOUNT_PATTERN.fullmatch(email):
        raise CloudRunRuleError(
            "service_account must be an IAM service account email "
            "(name@project.iam.gserviceaccount.com)"
        )
    return email
