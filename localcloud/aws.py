"""The local cloud's AWS: moto's server (every AWS API moto emulates, on its own port, in a thread
of the local cloud's process; WIRE_APIS §10), seeded with a few EC2 instances so the assistant's
AWS tools ("Lista las instancias EC2") answer something on a fresh machine. Its state is in memory:
a restart seeds it again.

moto's first EC2 call builds its catalogue (seconds on a loaded machine), so the server starts and
is seeded in a thread while the rest of the local cloud already serves; `GET /_localcloud/aws`
says when it is ready and which instances it seeded."""

from __future__ import annotations

import logging
import threading
from typing import Any

import boto3

REGION = "us-east-1"
# Any credentials are accepted by moto; these only name the local account.
ACCESS_KEY_ID = "localcloud"
SECRET_ACCESS_KEY = "localcloud-secret"
# The seeded instances: (Name tag, instance type, state after seeding).
SEEDED = (
    ("web-1", "t3.micro", "running"),
    ("worker-1", "t3.small", "running"),
    ("batch-1", "t3.micro", "stopped"),
)


log = logging.getLogger(__name__)
_status: dict[str, Any] = {"served": False, "ready": False, "instances": [], "error": None}


def status() -> dict[str, Any]:
    return dict(_status)


_lock = threading.Lock()
_started: list[threading.Thread] = []


def start(host: str, port: int, lazy: bool = False) -> None:
    """moto's server on host:port, started and seeded in a daemon thread (it ends with the
    process); `lazy` waits for the first `GET /_localcloud/aws` to start it (the tests' local
    clouds, most of which never use AWS, so their start costs nothing)."""
    _status.update(served=True, endpoint=f"http://{host}:{port}", host=host, port=port)
    if not lazy:
        ensure_started()


def ensure_started() -> None:
    with _lock:
        if _started or not _status["served"]:
            return
        host, port = _status["host"], _status["port"]
        thread = threading.Thread(
            target=_serve, args=(host, port), name="localcloud-aws", daemon=True
        )
        thread.start()
        _started.append(thread)


def _serve(host: str, port: int) -> None:
    # werkzeug logs every request to stderr.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        from moto.server import ThreadedMotoServer  # imported here: it takes a second or two

        ThreadedMotoServer(ip_address=host, port=port, verbose=False).start()
        _status.update(instances=seed(f"http://{host}:{port}"), ready=True)
    except Exception as error:  # the rest of the local cloud serves on; the status says why
        log.exception("the local cloud's AWS did not start")
        _status.update(error=f"{type(error).__name__}: {error}")


def seed(endpoint: str) -> list[str]:
    """Runs the seeded instances (once: an endpoint that has them is left as it is)."""
    ec2 = boto3.client(
        "ec2",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )
    existing = ec2.describe_instances()["Reservations"]
    if existing:
        return [i["InstanceId"] for r in existing for i in r["Instances"]]
    image = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    ids = []
    for name, instance_type, state in SEEDED:
        (instance,) = ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType=instance_type,
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": "Name", "Value": name}, {"Key": "env", "Value": "local"}],
                }
            ],
        )["Instances"]
        ids.append(instance["InstanceId"])
        if state == "stopped":
            ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    return ids
