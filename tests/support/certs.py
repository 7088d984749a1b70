"""Throwaway certificate authorities and the certificates they sign, made at test time (never stored).

A leaf is good for both ends of a connection (serverAuth and clientAuth), as one certificate per
process is what the suite's settings take (OPSUITE_TLS_CERT/KEY). Its names are where the suite is
dialled: `localhost` and 127.0.0.1 (an IP SAN) on one machine, the Kubernetes Services' names in a
cluster (deploy/k8s/).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.common.settings import SERVICES

SUITE_NAMES = ("localhost", *SERVICES, *(f"{name}.opsuite.svc.cluster.local" for name in SERVICES))
SUITE_IPS = ("127.0.0.1",)


@dataclass(frozen=True)
class Authority:
    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    pem: Path  # the CA certificate, as OPSUITE_TLS_CA takes it


@dataclass(frozen=True)
class Leaf:
    cert: Path  # OPSUITE_TLS_CERT
    key: Path  # OPSUITE_TLS_KEY

    def env(self, authority: Authority, *, client_auth: bool) -> dict[str, str]:
        """The variables that put a process on TLS with this certificate, verifying against `authority`."""
        return {
            "OPSUITE_TLS_CERT": str(self.cert),
            "OPSUITE_TLS_KEY": str(self.key),
            "OPSUITE_TLS_CA": str(authority.pem),
            "OPSUITE_TLS_CLIENT_AUTH": "true" if client_auth else "false",
        }


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return builder.not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def authority(directory: Path, name: str) -> Authority:
    """A self-signed CA, its certificate written to <directory>/<name>-ca.pem."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(f"{name} test CA")
    certificate = (
        _validity(x509.CertificateBuilder())
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
    pem = _write(directory / f"{name}-ca.pem", certificate.public_bytes(serialization.Encoding.PEM))
    return Authority(name, key, certificate, pem)


def issue(
    ca: Authority,
    directory: Path,
    name: str,
    *,
    dns_names: tuple[str, ...] = SUITE_NAMES,
    ips: tuple[str, ...] = SUITE_IPS,
) -> Leaf:
    """A certificate signed by `ca` for `dns_names` and `ips`, and its key, as <directory>/<name>.pem
    and <name>-key.pem."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(name))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in dns_names]
                + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    cert = _write(directory / f"{name}.pem", certificate.public_bytes(serialization.Encoding.PEM))
    key_path = _write(
        directory / f"{name}-key.pem",
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    key_path.chmod(0o600)
    return Leaf(cert, key_path)
