"""MongoDB template: a TCP reachability check only, because no MongoDB driver is installed.

Decision: the platform does not depend on pymongo yet and no MongoDB server is available to
test a driver against, so this template never claims more than it knows:

* no host of the URL accepts a TCP connection -> "unhealthy" ("no server reachable at h:p");
* a host accepts TCP -> "unknown": something listens there, but neither the server nor the
  credentials were verified;
* `mongodb+srv://` URLs need an SRV lookup that only a driver does -> "unknown".

It has no operations. Adding pymongo's AsyncMongoClient (ping, list_database_names) is the
upgrade path, together with a real server in the test environment.
"""

from __future__ import annotations

import asyncio
import contextlib

from providers.service_templates.base import ExternalServiceTemplate, Health
from providers.service_templates.errors import InvalidOperationParams
from providers.service_templates.types import ExternalServiceType, ServiceConnection

DEFAULT_PORT = 27017
TCP_TIMEOUT_SECONDS = 3.0


def _hosts(url: str) -> list[tuple[str, int]]:
    """host:port pairs of a `mongodb://[user:pass@]h1[:p1],h2[:p2]/...` URL."""
    rest = url.split("://", 1)[1]
    hostlist = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    hosts = []
    for item in filter(None, hostlist.split(",")):
        if item.startswith("["):  # [IPv6]:port
            host, _, port = item[1:].partition("]")
            port = port.lstrip(":")
        else:
            host, _, port = item.partition(":")
        if not port.isdigit() and port:
            raise InvalidOperationParams("invalid port in MongoDB URL", field="url")
        hosts.append((host, int(port) if port else DEFAULT_PORT))
    if not hosts:
        raise InvalidOperationParams("no host in MongoDB URL", field="url")
    return hosts


async def _reachable(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TCP_TIMEOUT_SECONDS)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class MongoDBTemplate(ExternalServiceTemplate):
    service_type = ExternalServiceType.MONGODB
    url_schemes = ("mongodb", "mongodb+srv")
    operations = ()

    async def probe(self, conn: ServiceConnection) -> Health:
        url = conn.credentials.get("connection_string") or conn.url
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme == "mongodb+srv":
            return Health(
                "unknown",
                "mongodb+srv:// URLs need the MongoDB driver (pymongo), which is not installed; "
                "not checked",
            )
        if scheme != "mongodb":
            raise InvalidOperationParams("MongoDB URL must start with mongodb://", field="url")
        hosts = _hosts(url)
        results = await asyncio.gather(*(_reachable(h, p) for h, p in hosts))
        listed = ", ".join(f"{h}:{p}" for h, p in hosts)
        details = {"hosts": [f"{h}:{p}" for h, p in hosts], "tcp_reachable": list(results)}
        if not any(results):
            return Health("unhealthy", f"no server reachable at {listed}", details)
        return Health(
            "unknown",
            "a server accepts TCP connections, but the MongoDB driver (pymongo) is not "
            "installed, so the server and the credentials were not verified",
            details,
        )
