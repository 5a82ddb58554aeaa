"""A small PKI built in-process for the trust tests: every certificate a test needs, made once per session.

``generate_test_pki`` (tlsprobe.testing) makes the files real servers use; these tests need many more shapes
(expired, weak keys, SHA-1, odd names), built here with ``cryptography``.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | dsa.DSAPrivateKey

# Certificates carry whole seconds: a whole-second "now" makes days_left exact.
NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
DAY = datetime.timedelta(days=1)

# DER contents of RSA signature algorithm OIDs, all nine bytes long, so that a certificate is relabelled in place.
SIGNATURE_OIDS = {
    "sha256": bytes.fromhex("2a864886f70d01010b"),  # sha256WithRSAEncryption, 1.2.840.113549.1.1.11
    "sha1": bytes.fromhex("2a864886f70d010105"),  # sha1WithRSAEncryption
    "md5": bytes.fromhex("2a864886f70d010104"),  # md5WithRSAEncryption
    "md2": bytes.fromhex("2a864886f70d010102"),  # md2WithRSAEncryption: cryptography cannot compute MD2
    "unknown": bytes.fromhex("2a864886f70d010163"),  # 1.2.840.113549.1.1.99: no such algorithm
}
_RESIGN_HASHES: dict[str, hashes.HashAlgorithm] = {"sha1": hashes.SHA1(), "md5": hashes.MD5()}


@attrs.frozen
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: PrivateKey


def name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(
    common_name: str,
    *,
    key: PrivateKey,
    issuer: Issued | None = None,
    ca: bool = False,
    sans: Sequence[str] = (),
    eku: Sequence[x509.ObjectIdentifier] | None = (ExtendedKeyUsageOID.SERVER_AUTH,),
    not_before: datetime.datetime = NOW - DAY,
    not_after: datetime.datetime = NOW + 30 * DAY + datetime.timedelta(hours=1),
    subject: x509.Name | None = None,
    san_critical: bool = False,
    extensions: Sequence[x509.ExtensionType] = (),
) -> Issued:
    """A certificate for ``key`` signed by ``issuer`` (self-signed when None), SHA-256 unless the key is EdDSA.

    The subject is CN=``common_name`` unless ``subject`` is given; ``extensions`` are added, not critical.

    ``sans`` entries that parse as IP addresses become iPAddress entries, unless written ``dns:...``.
    """
    public_key = key.public_key()
    signer_key = key if issuer is None else issuer.key
    issuer_name = name(common_name) if issuer is None else issuer.cert.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(common_name) if subject is None else subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
    )
    if ca:
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        )
        builder = builder.add_extension(usage, critical=True)
    if eku is not None and not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if ca and eku is not None and tuple(eku) != (ExtendedKeyUsageOID.SERVER_AUTH,):
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if sans:
        entries: list[x509.GeneralName] = []
        for entry in sans:
            if entry.startswith("dns:"):
                entries.append(x509.DNSName(entry.removeprefix("dns:")))
                continue
            try:
                entries.append(x509.IPAddress(ipaddress.ip_address(entry)))
            except ValueError:
                entries.append(x509.DNSName(entry))
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=san_critical)
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    algorithm = None if isinstance(signer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return Issued(builder.sign(signer_key, algorithm), key)


def resign(cert: x509.Certificate, issuer_key: rsa.RSAPrivateKey, algorithm: str) -> x509.Certificate:
    """``cert`` (sha256WithRSAEncryption) relabelled as ``algorithm`` (a key of ``SIGNATURE_OIDS``) and signed again
    by ``issuer_key`` over its hash, which cryptography's builder refuses for SHA-1 and MD5. For an algorithm that
    cannot be computed here (MD2, an unknown OID) the old signature bytes stay: nobody can check them.

    The OIDs are all nine bytes and an RSA signature keeps its length, so the DER is patched in place.
    """
    der = cert.public_bytes(serialization.Encoding.DER)
    assert der.count(SIGNATURE_OIDS["sha256"]) == 2  # in the TBSCertificate and in the outer signatureAlgorithm
    der = der.replace(SIGNATURE_OIDS["sha256"], SIGNATURE_OIDS[algorithm])
    if algorithm not in _RESIGN_HASHES:
        return x509.load_der_x509_certificate(der)
    tbs = x509.load_der_x509_certificate(der).tbs_certificate_bytes
    signature = issuer_key.sign(tbs, padding.PKCS1v15(), _RESIGN_HASHES[algorithm])
    assert len(signature) == len(cert.signature)
    return x509.load_der_x509_certificate(der[: -len(signature)] + signature)


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


@attrs.frozen(kw_only=True)
class TrustPKI:
    """Every certificate of the trust tests. EC P-256 unless named otherwise; SAN in brackets."""

    root: Issued
    """Self-signed root CA, the anchor of the test store."""
    intermediate: Issued
    """Issued by ``root``; extendedKeyUsage serverAuth only (as Web PKI TLS intermediates now have)."""
    leaf: Issued
    """[www.example.com, example.com], valid 30 days and an hour from NOW."""
    wildcard: Issued
    """[*.example.com, example.com]."""
    odd_wildcards: Issued
    """[w*.example.com, *.com, *.*.example.org, www.*.example.net]: none of them may match."""
    idn: Issued
    """[*.xn--bcher-kva.example] (bücher)."""
    ip: Issued
    """[127.0.0.1, ::1, dNSName "192.0.2.7"]."""
    no_san: Issued
    """CN=www.example.com and no subjectAltName."""
    cn_only_match: Issued
    """CN=www.example.com, [other.example]."""
    expired: Issued
    """[expired.example], not after NOW - 2 days."""
    not_yet_valid: Issued
    """[future.example], not before NOW + 2 days."""
    self_signed: Issued
    """A self-signed leaf (not a CA) [self.example]."""
    client_only: Issued
    """[client.example] with extendedKeyUsage clientAuth only."""
    rsa1024: Issued
    """An RSA-1024 leaf [rsa1024.example]."""
    p192: Issued
    """An EC P-192 leaf [p192.example]."""
    dsa: Issued
    """A DSA-1024 leaf [dsa.example]."""
    ed25519: Issued
    """An Ed25519 leaf [ed25519.example] signed by ``intermediate``."""
    ed25519_self_signed: Issued
    """A self-signed Ed25519 certificate (an Ed25519 signature)."""
    client_intermediate: Issued
    """Issued by ``root``; extendedKeyUsage clientAuth only."""
    under_client_intermediate: Issued
    """[ci.example] issued by ``client_intermediate``."""
    rsa_root: Issued
    """A self-signed RSA-2048 root."""
    sha1_intermediate: Issued
    """Issued by ``rsa_root`` with a SHA-1 signature."""
    under_sha1: Issued
    """[sha1.example] issued by ``sha1_intermediate`` (its own signature is SHA-256)."""
    sha1_root: Issued
    """``rsa_root``'s key, self-signed with SHA-1 (subject CN=sha1 root)."""
    under_sha1_root: Issued
    """An intermediate issued by ``sha1_root`` with SHA-256."""
    md5_leaf: Issued
    """[md5.example] issued by ``rsa_root`` with an MD5 signature."""


@functools.cache
def trust_pki() -> TrustPKI:
    """Built once per test session (about 0.2 s, mostly the RSA-2048 key)."""
    p256 = ec.SECP256R1()
    root = issue("tlsprobe trust test root", key=ec.generate_private_key(p256), ca=True)
    intermediate = issue("tlsprobe trust test intermediate", key=ec.generate_private_key(p256), issuer=root, ca=True)

    def leaf(common_name: str, *sans: str, **options: Any) -> Issued:
        return issue(common_name, key=ec.generate_private_key(p256), issuer=intermediate, sans=sans, **options)

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_root = issue("tlsprobe rsa root", key=rsa_key, ca=True)
    sha256_intermediate = issue("sha1 intermediate", key=ec.generate_private_key(p256), issuer=rsa_root, ca=True)
    sha1_intermediate = Issued(resign(sha256_intermediate.cert, rsa_key, "sha1"), sha256_intermediate.key)
    sha1_root = Issued(resign(issue("sha1 root", key=rsa_key, ca=True).cert, rsa_key, "sha1"), rsa_key)
    sha256_md5_leaf = issue("md5.example", key=ec.generate_private_key(p256), issuer=rsa_root, sans=("md5.example",))
    client_intermediate = issue(
        "client intermediate",
        key=ec.generate_private_key(p256),
        issuer=root,
        ca=True,
        eku=(ExtendedKeyUsageOID.CLIENT_AUTH,),
    )
    return TrustPKI(
        root=root,
        intermediate=intermediate,
        leaf=leaf("www.example.com", "www.example.com", "example.com"),
        wildcard=leaf("wildcard", "*.example.com", "example.com"),
        odd_wildcards=leaf("odd", "w*.example.com", "*.com", "*.*.example.org", "www.*.example.net"),
        idn=leaf("idn", "*.xn--bcher-kva.example"),
        ip=leaf("ip", "127.0.0.1", "::1", "dns:192.0.2.7"),
        no_san=leaf("www.example.com"),
        cn_only_match=leaf("www.example.com", "other.example"),
        expired=leaf("expired.example", "expired.example", not_before=NOW - 10 * DAY, not_after=NOW - 2 * DAY),
        not_yet_valid=leaf("future.example", "future.example", not_before=NOW + 2 * DAY, not_after=NOW + 10 * DAY),
        self_signed=issue("self.example", key=ec.generate_private_key(p256), sans=("self.example",)),
        client_only=leaf("client.example", "client.example", eku=(ExtendedKeyUsageOID.CLIENT_AUTH,)),
        rsa1024=issue(
            "rsa1024.example",
            key=rsa.generate_private_key(public_exponent=65537, key_size=1024),
            issuer=intermediate,
            sans=("rsa1024.example",),
        ),
        p192=issue(
            "p192.example", key=ec.generate_private_key(ec.SECP192R1()), issuer=intermediate, sans=("p192.example",)
        ),
        dsa=issue("dsa.example", key=dsa.generate_private_key(1024), issuer=intermediate, sans=("dsa.example",)),
        ed25519=issue(
            "ed25519.example", key=ed25519.Ed25519PrivateKey.generate(), issuer=intermediate, sans=("ed25519.example",)
        ),
        ed25519_self_signed=issue("ed25519 self-signed", key=ed25519.Ed25519PrivateKey.generate()),
        client_intermediate=client_intermediate,
        under_client_intermediate=issue(
            "ci.example", key=ec.generate_private_key(p256), issuer=client_intermediate, sans=("ci.example",)
        ),
        rsa_root=rsa_root,
        sha1_intermediate=sha1_intermediate,
        under_sha1=issue(
            "sha1.example", key=ec.generate_private_key(p256), issuer=sha1_intermediate, sans=("sha1.example",)
        ),
        sha1_root=sha1_root,
        under_sha1_root=issue("under sha1 root", key=ec.generate_private_key(p256), issuer=sha1_root, ca=True),
        md5_leaf=Issued(resign(sha256_md5_leaf.cert, rsa_key, "md5"), sha256_md5_leaf.key),
    )


def write_server_files(directory: Path, stem: str, leaf: Issued, *chain: x509.Certificate) -> tuple[Path, Path]:
    """``leaf`` and ``chain`` (in that order) as a PEM file, and the leaf's key as PKCS#8: what a server loads."""
    certfile, keyfile = directory / f"{stem}.pem", directory / f"{stem}.key"
    certfile.write_bytes(pem(leaf.cert, *chain))
    encoding, private_format = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    keyfile.write_bytes(leaf.key.private_bytes(encoding, private_format, serialization.NoEncryption()))
    return certfile, keyfile


def ocsp_response_der(
    leaf: x509.Certificate, issuer: Issued, status: ocsp.OCSPCertStatus = ocsp.OCSPCertStatus.GOOD
) -> bytes:
    """A DER OCSP response for ``leaf`` signed by its ``issuer``: produced an hour ago, valid three days more (a
    revoked status dates the revocation a day back)."""
    revoked = status is ocsp.OCSPCertStatus.REVOKED
    response = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=leaf,
            issuer=issuer.cert,
            algorithm=hashes.SHA1(),
            cert_status=status,
            this_update=NOW - datetime.timedelta(hours=1),
            next_update=NOW + datetime.timedelta(days=3),
            revocation_time=NOW - DAY if revoked else None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.cert)
        .sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return response.public_bytes(serialization.Encoding.DER)
