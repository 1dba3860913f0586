"""The local cloud's own certificate authority and the server certificate its TLS port serves.

proxmoxer only speaks https, so the Proxmox VE emulator listens on TLS. On start the local cloud
makes (once, under `<data dir>/tls/`) a CA and a certificate for `127.0.0.1`, `::1` and `localhost`
signed by it; the platform trusts `ca.pem` (`proxmox_ca_bundle`, defaulting to that file), as it
would trust a real cluster's `pve-root-ca.pem`. Both are kept across restarts so a client that
already loaded the CA keeps working; a server certificate close to expiry (or older than its CA)
is made anew.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
_RENEW_BEFORE = datetime.timedelta(days=7)


def tls_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "tls"


def ca_path(data_dir: Path) -> Path:
    """The CA file a client trusts to reach the local cloud's TLS port."""
    return tls_dir(data_dir) / CA_FILE


def ensure_certificates(data_dir: Path) -> tuple[Path, Path]:
    """The server certificate and key files (made, with the CA, when missing or expiring)."""
    folder = tls_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key, new_ca = _ensure_ca(folder)
    cert_file, key_file = folder / CERT_FILE, folder / KEY_FILE
    if new_ca or not (cert_file.exists() and key_file.exists()) or _expiring(cert_file):
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        names = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write(key_file, _key_pem(key), private=True)
        _write(cert_file, cert.public_bytes(serialization.Encoding.PEM))
    return cert_file, key_file


def _ensure_ca(folder: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, bool]:
    ca_file, ca_key_file = folder / CA_FILE, folder / CA_KEY_FILE
    if ca_file.exists() and ca_key_file.exists():
        cert = x509.load_pem_x509_certificate(ca_file.read_bytes())
        key = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cert, key, False
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ConneSkills local cloud CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(ca_key_file, _key_pem(key), private=True)
    _write(ca_file, cert.public_bytes(serialization.Encoding.PEM))
    return cert, key, True


def _expiring(cert_file: Path) -> bool:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return cert.not_valid_after_utc < datetime.datetime.now(datetime.UTC) + _RENEW_BEFORE


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    if private:
        tmp.chmod(0o600)
    os.replace(tmp, path)
