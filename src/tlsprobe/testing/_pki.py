"""A throw-away public key infrastructure for tests and for ``tlsprobe demo``.

Everything is generated in-process with ``cryptography`` (a runtime dependency of tlsprobe), so that the
shipped demo command does not need trustme or an ``openssl`` binary. The certificates are only meant for
servers that listen on the loopback interface.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TestPKI", "generate_test_pki"]

_PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

#: The names every server certificate is valid for.
SERVER_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")


@attrs.frozen
class TestPKI:
    """Paths of the PEM files written by :func:`generate_test_pki`.

    ``rsa_chain`` holds the RSA leaf followed by the CA certificate, which is what most servers want as their
    certificate file. Private keys are unencrypted PKCS#8.
    """

    __test__ = False  # not a pytest test class, despite its name

    directory: Path
    ca_cert: Path
    ca_key: Path
    rsa_cert: Path
    rsa_key: Path
    rsa_chain: Path
    ecdsa_cert: Path
    ecdsa_key: Path
    ecdsa_chain: Path
    client_cert: Path
    client_key: Path
    client_chain: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsprobe test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_pem(key: _PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _sans(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    general_names: list[x509.GeneralName] = []
    for name in names:
        try:
            general_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general_names.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(general_names)


def _issue(
    *,
    subject: str,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    ca_cert: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    now: datetime.datetime,
    server: bool,
) -> x509.Certificate:
    key_usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        # RSA key exchange (TLS_RSA_*, SSLv2) encrypts the premaster secret to the certificate's key.
        key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    eku = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if server:
        builder = builder.add_extension(_sans(SERVER_NAMES), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def generate_test_pki(directory: Path) -> TestPKI:
    """Create a CA, RSA-2048 and ECDSA P-256 server certificates and a client certificate under ``directory``.

    The server certificates are valid for ``localhost``, ``127.0.0.1`` and ``::1``. The CA and the leaves
    with an RSA key are RSA-2048 with SHA-256 signatures, so that even SSL 2.0/3.0 peers can use them.
    The directory is created if needed; existing files are overwritten. Takes about 0.1 s.
    """
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("tlsprobe test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ecdsa_key = ec.generate_private_key(ec.SECP256R1())
    client_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_cert = _issue(
        subject="localhost",
        public_key=rsa_key.public_key(),
        ca_cert=ca_cert,
        ca_key=ca_key,
        now=now,
        server=True,
    )
    ecdsa_cert = _issue(
        subject="localhost",
        public_key=ecdsa_key.public_key(),
        ca_cert=ca_cert,
        ca_key=ca_key,
        now=now,
        server=True,
    )
    client_cert = _issue(
        subject="tlsprobe test client",
        public_key=client_key.public_key(),
        ca_cert=ca_cert,
        ca_key=ca_key,
        now=now,
        server=False,
    )

    pki = TestPKI(
        directory=directory,
        ca_cert=directory / "ca.pem",
        ca_key=directory / "ca.key",
        rsa_cert=directory / "rsa.pem",
        rsa_key=directory / "rsa.key",
        rsa_chain=directory / "rsa.chain.pem",
        ecdsa_cert=directory / "ecdsa.pem",
        ecdsa_key=directory / "ecdsa.key",
        ecdsa_chain=directory / "ecdsa.chain.pem",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
        client_chain=directory / "client.chain.pem",
    )
    ca_pem = _cert_pem(ca_cert)
    pki.ca_cert.write_bytes(ca_pem)
    pki.ca_key.write_bytes(_key_pem(ca_key))
    for cert, key, cert_path, key_path, chain_path in (
        (rsa_cert, rsa_key, pki.rsa_cert, pki.rsa_key, pki.rsa_chain),
        (ecdsa_cert, ecdsa_key, pki.ecdsa_cert, pki.ecdsa_key, pki.ecdsa_chain),
        (client_cert, client_key, pki.client_cert, pki.client_key, pki.client_chain),
    ):
        leaf_pem = _cert_pem(cert)
        cert_path.write_bytes(leaf_pem)
        key_path.write_bytes(_key_pem(key))
        chain_path.write_bytes(leaf_pem + ca_pem)
    return pki
