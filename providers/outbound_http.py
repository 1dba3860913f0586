"""The one way the platform calls a URL a user gave it (a learned API's document and operations, a
webhook's receiver): the guard against server-side request forgery, and the call itself.

- Only `http` and `https`, no user info in the URL.
- The host is resolved once, and every address it resolves to must be public: loopback, private,
  link-local, multicast, reserved, unspecified, shared (100.64/10) and the cloud metadata
  addresses (169.254.169.254, fd00:ec2::254) are refused, as are IPv4 addresses wrapped in IPv6,
  unless `outbound_allowed_addresses` names the address (or its network, or the address with the
  port).
- The connection goes to the address that was checked, never to the name resolved again (the
  `Host` header and TLS's SNI and certificate check still use the name), so a DNS answer that
  changes between the check and the call (DNS rebinding) cannot move it.
- Redirects are followed here, by hand, at most `outbound_max_redirects`, each target checked as
  the first URL was; credentials are dropped when a redirect leaves the first origin.
- At most `outbound_timeout_seconds` in all and `outbound_max_bytes` of answer."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import structlog

from core.settings import Settings
from providers.tls import client_context

log = structlog.get_logger(__name__)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_REDIRECTS = {301, 302, 303, 307, 308}
# Headers that carry credentials: not sent on to another origin.
_CREDENTIAL_HEADERS = {"authorization", "cookie", "proxy-authorization", "x-api-key"}


class Refused(Exception):
    """The URL may not be called (a scheme, an address, a redirect target): the reason, in words
    safe to show the user."""


class CallFailed(Exception):
    """The call was allowed but did not answer (refused connection, timeout, answer too large)."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    address: IpAddress


@dataclass
class _Allowed:
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(default_factory=list)
    with_port: set[tuple[IpAddress, int]] = field(default_factory=set)

    def names(self, address: IpAddress, port: int) -> bool:
        return (address, port) in self.with_port or any(address in n for n in self.networks)


def allowed(settings: Settings) -> _Allowed:
    """`outbound_allowed_addresses` parsed; a malformed entry is a configuration error."""
    result = _Allowed()
    for entry in settings.outbound_allowed_addresses:
        entry = entry.strip()
        host, port = _split_port(entry)
        if port is None:
            result.networks.append(ipaddress.ip_network(entry, strict=False))
        else:
            result.with_port.add((ipaddress.ip_address(host), port))
    return result


def _split_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, int(port)
    return entry, None


def forbidden_reason(address: IpAddress) -> str | None:
    """Why the address may not be reached without the allow-list, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return forbidden_reason(address.ipv4_mapped) or "an IPv4 address wrapped in IPv6"
    if address in METADATA_ADDRESSES:
        return "the cloud metadata address"
    for reason, hit in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        (
            "shared (carrier-grade NAT)",
            isinstance(address, ipaddress.IPv4Address) and address in _SHARED,
        ),
        ("not global", not address.is_global),
    ):
        if hit:
            return f"a {reason} address"
    return None


def parse(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; Refused otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("the URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused(f"only http and https URLs may be called, not {scheme or 'none'!r}")
    if parts.username is not None or parts.password is not None:
        raise Refused("a URL may not carry a user name or password; use credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("the URL has no host")
    return scheme, host, port or (443 if scheme == "https" else 80)


async def check(settings: Settings, url: str) -> Target:
    """The URL's target, once every address its host resolves to is allowed; Refused otherwise.
    The first address is the one to connect to."""
    scheme, host, port = parse(url)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = await _resolve(host, port)
    allow = allowed(settings)
    for address in addresses:
        reason = forbidden_reason(address)
        if reason is not None and not allow.names(address, port):
            raise Refused(f"{host} resolves to {address}, {reason}, which may not be called")
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0])


async def _resolve(host: str, port: int) -> list[IpAddress]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError):
        raise Refused(f"{host} does not resolve") from None
    addresses: list[IpAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Refused(f"{host} does not resolve")
    return addresses


async def call(
    settings: Settings,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    params: dict[str, Any] | None = None,
) -> Answer:
    """One guarded call, redirects followed by hand. Refused for a URL (or a redirect target) the
    guard refuses, CallFailed when the call itself fails."""
    if params:
        url = str(httpx.URL(url).copy_merge_params(params))
    try:
        async with asyncio.timeout(settings.outbound_timeout_seconds):
            return await _follow(settings, method, url, dict(headers or {}), content)
    except TimeoutError:
        raise CallFailed(f"no answer within {settings.outbound_timeout_seconds:g} s") from None


async def _follow(
    settings: Settings, method: str, url: str, headers: dict[str, str], content: bytes | None
) -> Answer:
    origin = parse(url)
    timeout = httpx.Timeout(settings.outbound_timeout_seconds)
    async with httpx.AsyncClient(
        follow_redirects=False, timeout=timeout, trust_env=False, verify=client_context()
    ) as http:
        for _ in range(settings.outbound_max_redirects + 1):
            target = await check(settings, url)
            answer = await _once(settings, http, target, method, headers, content)
            location = answer.headers.get("location")
            if answer.status not in _REDIRECTS or not location:
                return answer
            url = urljoin(url, location)
            if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                method, content = "GET", None
            if parse(url) != origin:
                headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
        raise Refused(f"more than {settings.outbound_max_redirects} redirects")


async def _once(
    settings: Settings,
    http: httpx.AsyncClient,
    target: Target,
    method: str,
    headers: dict[str, str],
    content: bytes | None,
) -> Answer:
    # The request goes to the checked address; the name stays in Host and in TLS (SNI, and the
    # certificate checked against it).
    pinned = httpx.URL(target.url).copy_with(host=str(target.address))
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host:
        host_header = f"[{target.host}]" + (
            "" if target.port == default_port else f":{target.port}"
        )
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request = http.build_request(
        method,
        pinned,
        headers={**headers, "Host": host_header},
        content=content,
        extensions=extensions,
    )
    try:
        response = await http.send(request, stream=True)
    except httpx.HTTPError as error:
        raise CallFailed(f"{target.host}: {type(error).__name__}") from None
    try:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.outbound_max_bytes:
            raise CallFailed(f"the answer is larger than {settings.outbound_max_bytes} bytes")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > settings.outbound_max_bytes:
                raise CallFailed(f"the answer is larger than {settings.outbound_max_bytes} bytes")
    except httpx.HTTPError as error:
        raise CallFailed(f"{target.host}: {type(error).__name__}") from None
    finally:
        await response.aclose()
    return Answer(
        status=response.status_code, headers=response.headers, body=bytes(body), url=target.url
    )
