"""Reaching a secured Temporal: TLS with a CA of one's own, mutual TLS, another server name and
API-key auth, through the one `connect` every process uses. The dev server speaks plain gRPC, so a
TLS-terminating proxy (asyncio + ssl, ALPN h2) stands in front of it, as a load balancer would."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

from temporal.client import connect
from temporal.security import TemporalSecurityError, connection_options
from tests.helpers.platform import CODEC_KEY, make_settings


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _cert(subject: str, key, issuer_cert=None, issuer_key=None, *, ca=False, server=False):
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_cert.subject if issuer_cert else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(subject), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


def _write(path: Path, *, cert=None, key=None) -> Path:
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A CA, the frontend's certificate (for `temporal.test` and 127.0.0.1) and a client's."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = _key()
    ca = _cert("Test CA", ca_key, ca=True)
    server_key, client_key = _key(), _key()
    server = _cert("temporal.test", server_key, ca, ca_key, server=True)
    client = _cert("platform-worker", client_key, ca, ca_key)
    return {
        "ca": _write(folder / "ca.pem", cert=ca),
        "server_cert": _write(folder / "server.pem", cert=server),
        "server_key": _write(folder / "server.key", key=server_key),
        "client_cert": _write(folder / "client.pem", cert=client),
        "client_key": _write(folder / "client.key", key=client_key),
    }


@contextlib.asynccontextmanager
async def tls_proxy(target: str, pki: dict[str, Path], *, mutual: bool) -> AsyncIterator[str]:
    """Terminates TLS on a free port and pipes the bytes to the dev server's plain gRPC port."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki["server_cert"], pki["server_key"])
    context.set_alpn_protocols(["h2"])
    if mutual:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki["ca"])
    host, _, port = target.rpartition(":")

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


def _settings(tmp_path: Path, address: str, **overrides):
    return make_settings(tmp_path, address, "http://127.0.0.1:1", codec_key=CODEC_KEY, **overrides)


async def _namespace_answers(client) -> bool:
    answer = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    return answer.namespace_info.name == client.namespace


async def test_a_private_ca_and_another_server_name_reach_the_cluster(
    temporal_address, pki, tmp_path
):
    async with tls_proxy(temporal_address, pki, mutual=False) as address:
        settings = _settings(
            tmp_path,
            address,
            temporal_tls_ca_file=pki["ca"],
            temporal_tls_server_name="temporal.test",
        )
        assert await _namespace_answers(await connect(settings))


async def test_mutual_tls_is_refused_without_the_client_certificate_and_works_with_it(
    temporal_address, pki, tmp_path
):
    async with tls_proxy(temporal_address, pki, mutual=True) as address:
        without = _settings(tmp_path, address, temporal_tls_ca_file=pki["ca"])
        # The proxy ends the handshake: no certificate, no connection.
        # How the refusal reads depends on when the proxy's close reaches the client.
        with pytest.raises(
            RuntimeError, match="Failed client connect.*(transport error|connection closed)"
        ):
            await connect(without)
        with_cert = without.model_copy(
            update={
                "temporal_tls_cert_file": pki["client_cert"],
                "temporal_tls_key_file": pki["client_key"],
            }
        )
        assert await _namespace_answers(await connect(with_cert))


async def test_a_certificate_the_ca_did_not_sign_is_refused(temporal_address, pki, tmp_path):
    async with tls_proxy(temporal_address, pki, mutual=False) as address:
        # The system's roots do not know the test CA.
        settings = _settings(tmp_path, address, temporal_tls=True)
        with pytest.raises(RuntimeError, match="UnknownIssuer"):
            await connect(settings)


async def test_the_api_key_turns_tls_on_and_goes_with_every_call(temporal_address, pki, tmp_path):
    async with tls_proxy(temporal_address, pki, mutual=False) as address:
        settings = _settings(
            tmp_path,
            address,
            temporal_api_key="tcld-test-key",
            temporal_tls_ca_file=pki["ca"],
        )
        client = await connect(settings)
        assert client.service_client.config.api_key == "tcld-test-key"
        assert client.service_client.config.tls
        assert await _namespace_answers(client)
    options = connection_options(_settings(tmp_path, "x:1", temporal_api_key="k"))
    assert options["api_key"] == "k" and options["tls"] is not False


def test_the_dev_server_is_reached_without_tls(tmp_path):
    assert connection_options(_settings(tmp_path, "x:1")) == {"tls": False, "api_key": None}


def test_a_certificate_without_its_key_or_a_missing_file_is_a_clear_error(tmp_path, pki):
    with pytest.raises(TemporalSecurityError, match="needs both"):
        connection_options(_settings(tmp_path, "x:1", temporal_tls_cert_file=pki["client_cert"]))
    with pytest.raises(TemporalSecurityError, match="cannot read the Temporal CA file"):
        connection_options(_settings(tmp_path, "x:1", temporal_tls_ca_file=tmp_path / "none.pem"))
