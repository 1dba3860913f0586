"""AWS EC2 for the assistant's AWS tools, through `boto3` (WIRE_APIS §10): the local cloud's AWS
(moto's server, with its fixed local credentials) by default; in production AWS's own endpoints with
the credentials the worker reads from Secret Manager (`aws_credentials_secret`), never logged nor
handed to a workflow. Synchronous (boto3): activities call it through `asyncio.to_thread`. Maps
boto3's errors to final (a refusal the model is told) or retryable failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from temporalio.exceptions import ApplicationError

from core.settings import Settings
from providers.google.secret_manager import SecretStore

# The local cloud's AWS takes any credentials; these name its local account.
LOCAL_CREDENTIALS = {
    "aws_access_key_id": "localcloud",
    "aws_secret_access_key": "localcloud-secret",
}
# No botocore retries: the activity's retry policy is the one place retries are decided.
_CONFIG = Config(
    retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30
)


class AwsRefused(Exception):
    """AWS answered 4xx (an unknown instance, a state that forbids the change): a final answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def _credentials(settings: Settings) -> dict[str, str]:
    if settings.aws_credentials_secret is None:
        return LOCAL_CREDENTIALS
    stored = json.loads(SecretStore(settings).access(settings.aws_credentials_secret))
    return {
        "aws_access_key_id": stored["aws_access_key_id"],
        "aws_secret_access_key": stored["aws_secret_access_key"],
    }


def ec2_client(settings: Settings, region: str | None = None) -> Any:
    return boto3.client(
        "ec2",
        region_name=region or settings.aws_region,
        endpoint_url=settings.resolved_aws_endpoint_url,
        config=_CONFIG,
        **_credentials(settings),
    )


@contextmanager
def as_failures() -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
        code = error.response.get("Error", {}).get("Code", "Unknown")
        message = str(error.response.get("Error", {}).get("Message", ""))[:300]
        if (
            400 <= status < 500
            and status != 429
            and code not in ("Throttling", "RequestLimitExceeded")
        ):
            raise AwsRefused(code, message) from None
        raise ApplicationError(f"AWS answered {status} {code}", type="Unavailable") from None
    except (EndpointConnectionError, BotoCoreError) as error:
        raise ApplicationError(
            f"AWS is unreachable: {type(error).__name__}", type="Unavailable"
        ) from None


def _name(instance: dict[str, Any]) -> str | None:
    return next((t["Value"] for t in instance.get("Tags", []) if t["Key"] == "Name"), None)


def _instance(instance: dict[str, Any], region: str) -> dict[str, Any]:
    return {
        "instance_id": instance["InstanceId"],
        "name": _name(instance),
        "state": instance["State"]["Name"],
        "instance_type": instance.get("InstanceType"),
        "image_id": instance.get("ImageId"),
        "private_ip": instance.get("PrivateIpAddress"),
        "public_ip": instance.get("PublicIpAddress"),
        "launch_time": str(instance["LaunchTime"]) if instance.get("LaunchTime") else None,
        "region": region,
        "tags": {t["Key"]: t["Value"] for t in instance.get("Tags", [])},
    }


def list_instances(
    settings: Settings, region: str | None = None, state: str | None = None
) -> dict[str, Any]:
    region = region or settings.aws_region
    filters = [{"Name": "instance-state-name", "Values": [state]}] if state else []
    with as_failures():
        pages = ec2_client(settings, region).get_paginator("describe_instances")
        instances = [
            _instance(instance, region)
            for page in pages.paginate(Filters=filters)
            for reservation in page["Reservations"]
            for instance in reservation["Instances"]
        ]
    return {"region": region, "instances": instances, "count": len(instances)}


def describe_instance(settings: Settings, instance_id: str, region: str | None = None) -> dict:
    region = region or settings.aws_region
    with as_failures():
        answer = ec2_client(settings, region).describe_instances(InstanceIds=[instance_id])
    (instance,) = [i for r in answer["Reservations"] for i in r["Instances"]]
    return _instance(instance, region)


def start_instance(settings: Settings, instance_id: str, region: str | None = None) -> dict:
    """Idempotent: starting a running instance answers its state as it is."""
    with as_failures():
        answer = ec2_client(settings, region).start_instances(InstanceIds=[instance_id])
    (change,) = answer["StartingInstances"]
    return _change(change)


def stop_instance(settings: Settings, instance_id: str, region: str | None = None) -> dict:
    """Idempotent: stopping a stopped instance answers its state as it is."""
    with as_failures():
        answer = ec2_client(settings, region).stop_instances(InstanceIds=[instance_id])
    (change,) = answer["StoppingInstances"]
    return _change(change)


def _change(change: dict[str, Any]) -> dict[str, Any]:
    return {
        "instance_id": change["InstanceId"],
        "previous_state": change["PreviousState"]["Name"],
        "current_state": change["CurrentState"]["Name"],
    }


def list_regions(settings: Settings) -> dict[str, Any]:
    with as_failures():
        answer = ec2_client(settings).describe_regions()
    return {"regions": sorted(r["RegionName"] for r in answer["Regions"])}
