"""Facts about certificates and chains, as plain JSON-friendly data (no ``x509.Certificate`` inside).

``CertificateFacts`` is what a report shows of one certificate, PEM included, so that the JSON carries the
certificate itself along with what was read from it. ``ChainFacts`` judges the chain a server sent: its order,
whether it includes a root, whether an intermediate is missing, SHA-1 and broken-hash (MD5...) signatures, weak
keys, expiry.

The chain's structure (order, completeness) is judged from names and keys only, never from whether a signature
algorithm is acceptable: a leaf signed with MD5 by the intermediate sent after it is in order, and its weak
signature is a separate fact. So signatures are checked with the issuer's public key directly (not
``verify_directly_issued_by``, which refuses legacy algorithms), the padding and hash are chosen from the
algorithm's OID (``cryptography`` gives no parameters for algorithms it no longer signs with, such as MD5), and a
signature that cannot be checked at all (MD2, MD4, an unknown algorithm) leaves the names and key identifiers
to decide.
"""

from __future__ import annotations

import base64
import datetime
import enum
import hashlib
import ipaddress
import itertools
import warnings
from collections.abc import Iterable, Sequence
from typing import Final, TypeVar, final

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import SignatureAlgorithmOID

__all__ = [
    "CertificateFacts",
    "ChainFacts",
    "KeyType",
    "has_broken_signature_hash",
    "has_sha1_signature",
    "is_self_signed",
    "signature_algorithm_name",
    "signed_by",
]

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_ExtensionT = TypeVar("_ExtensionT", bound=x509.ExtensionType)

_MIN_RSA_BITS: Final = 2048
_MIN_EC_BITS: Final = 224

_MD2_WITH_RSA: Final = x509.ObjectIdentifier("1.2.840.113549.1.1.2")
_MD4_WITH_RSA: Final = x509.ObjectIdentifier("1.2.840.113549.1.1.3")
_MD5_WITH_RSA_OIW: Final = x509.ObjectIdentifier("1.3.14.3.2.3")  # the old OIW arc, still known to OpenSSL

# Signatures over a hash with practical collisions (MD5's chosen-prefix collision forged a CA certificate in 2008):
# they prove nothing about what was signed. SHA-1 (collided in 2017) is reported on its own.
_BROKEN_HASH_SIGNATURES: Final = frozenset(
    {_MD2_WITH_RSA, _MD4_WITH_RSA, SignatureAlgorithmOID.RSA_WITH_MD5, _MD5_WITH_RSA_OIW}
)

# The signature families, by algorithm OID: they decide how a signature is verified and which key can have made it.
_RSA_PKCS1_SIGNATURES: Final = frozenset(
    {
        *_BROKEN_HASH_SIGNATURES,
        SignatureAlgorithmOID.RSA_WITH_SHA1,
        SignatureAlgorithmOID._RSA_WITH_SHA1,
        SignatureAlgorithmOID.RSA_WITH_SHA224,
        SignatureAlgorithmOID.RSA_WITH_SHA256,
        SignatureAlgorithmOID.RSA_WITH_SHA384,
        SignatureAlgorithmOID.RSA_WITH_SHA512,
        SignatureAlgorithmOID.RSA_WITH_SHA3_224,
        SignatureAlgorithmOID.RSA_WITH_SHA3_256,
        SignatureAlgorithmOID.RSA_WITH_SHA3_384,
        SignatureAlgorithmOID.RSA_WITH_SHA3_512,
    }
)
_ECDSA_SIGNATURES: Final = frozenset(
    {
        SignatureAlgorithmOID.ECDSA_WITH_SHA1,
        SignatureAlgorithmOID.ECDSA_WITH_SHA224,
        SignatureAlgorithmOID.ECDSA_WITH_SHA256,
        SignatureAlgorithmOID.ECDSA_WITH_SHA384,
        SignatureAlgorithmOID.ECDSA_WITH_SHA512,
        SignatureAlgorithmOID.ECDSA_WITH_SHA3_224,
        SignatureAlgorithmOID.ECDSA_WITH_SHA3_256,
        SignatureAlgorithmOID.ECDSA_WITH_SHA3_384,
        SignatureAlgorithmOID.ECDSA_WITH_SHA3_512,
    }
)
_DSA_SIGNATURES: Final = frozenset(
    {
        SignatureAlgorithmOID.DSA_WITH_SHA1,
        SignatureAlgorithmOID.DSA_WITH_SHA224,
        SignatureAlgorithmOID.DSA_WITH_SHA256,
        SignatureAlgorithmOID.DSA_WITH_SHA384,
        SignatureAlgorithmOID.DSA_WITH_SHA512,
    }
)

# OpenSSL's names for the signature algorithms; anything else is shown as its dotted OID.
_SIGNATURE_NAMES: Final[dict[x509.ObjectIdentifier, str]] = {
    _MD2_WITH_RSA: "md2WithRSAEncryption",
    _MD4_WITH_RSA: "md4WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_MD5: "md5WithRSAEncryption",
    _MD5_WITH_RSA_OIW: "md5WithRSA",
    SignatureAlgorithmOID.RSA_WITH_SHA1: "sha1WithRSAEncryption",
    SignatureAlgorithmOID._RSA_WITH_SHA1: "sha1WithRSA",
    SignatureAlgorithmOID.RSA_WITH_SHA224: "sha224WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA256: "sha256WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA384: "sha384WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA512: "sha512WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA3_224: "RSA-SHA3-224",
    SignatureAlgorithmOID.RSA_WITH_SHA3_256: "RSA-SHA3-256",
    SignatureAlgorithmOID.RSA_WITH_SHA3_384: "RSA-SHA3-384",
    SignatureAlgorithmOID.RSA_WITH_SHA3_512: "RSA-SHA3-512",
    SignatureAlgorithmOID.RSASSA_PSS: "rsassaPss",
    SignatureAlgorithmOID.ECDSA_WITH_SHA1: "ecdsa-with-SHA1",
    SignatureAlgorithmOID.ECDSA_WITH_SHA224: "ecdsa-with-SHA224",
    SignatureAlgorithmOID.ECDSA_WITH_SHA256: "ecdsa-with-SHA256",
    SignatureAlgorithmOID.ECDSA_WITH_SHA384: "ecdsa-with-SHA384",
    SignatureAlgorithmOID.ECDSA_WITH_SHA512: "ecdsa-with-SHA512",
    SignatureAlgorithmOID.ECDSA_WITH_SHA3_224: "ecdsa_with_SHA3-224",
    SignatureAlgorithmOID.ECDSA_WITH_SHA3_256: "ecdsa_with_SHA3-256",
    SignatureAlgorithmOID.ECDSA_WITH_SHA3_384: "ecdsa_with_SHA3-384",
    SignatureAlgorithmOID.ECDSA_WITH_SHA3_512: "ecdsa_with_SHA3-512",
    SignatureAlgorithmOID.DSA_WITH_SHA1: "dsaWithSHA1",
    SignatureAlgorithmOID.DSA_WITH_SHA224: "dsa_with_SHA224",
    SignatureAlgorithmOID.DSA_WITH_SHA256: "dsa_with_SHA256",
    SignatureAlgorithmOID.DSA_WITH_SHA384: "dsa_with_SHA384",
    SignatureAlgorithmOID.DSA_WITH_SHA512: "dsa_with_SHA512",
    SignatureAlgorithmOID.ED25519: "ED25519",
    SignatureAlgorithmOID.ED448: "ED448",
}


class KeyType(enum.Enum):
    """The type of a certificate's public key."""

    RSA = "rsa"
    EC = "ec"
    ED25519 = "ed25519"
    ED448 = "ed448"
    DSA = "dsa"
    OTHER = "other"
    """Any other key (X25519, GOST, ...) or one ``cryptography`` cannot load."""


def _extension(cert: x509.Certificate, kind: type[_ExtensionT]) -> _ExtensionT | None:
    """The extension's value, or None when it is absent or the extensions cannot be parsed."""
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except (x509.ExtensionNotFound, x509.DuplicateExtension, ValueError):
        return None


def _serial_hex(cert: x509.Certificate) -> str:
    # A few trusted roots have a serial of zero or below: reading it warns, which is not news to the user.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        serial = cert.serial_number
    digits = f"{abs(serial):x}"
    if len(digits) % 2:
        digits = "0" + digits
    return ("-" if serial < 0 else "") + digits


def _read_tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER element at ``offset``."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return tag, start, start + length


def _spki_der(cert: x509.Certificate) -> bytes:
    """The SubjectPublicKeyInfo exactly as it appears in the certificate, whatever the key type."""
    tbs = cert.tbs_certificate_bytes
    _tag, position, _end = _read_tlv(tbs, 0)  # TBSCertificate SEQUENCE: step inside
    if tbs[position] == 0xA0:  # [0] version
        position = _read_tlv(tbs, position)[2]
    for _field in range(5):  # serialNumber, signature, issuer, validity, subject
        position = _read_tlv(tbs, position)[2]
    return tbs[position : _read_tlv(tbs, position)[2]]


def _key(cert: x509.Certificate) -> tuple[KeyType, int | None, str | None]:
    """Key type, size in bits, and EC curve name."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return KeyType.OTHER, None, None
    if isinstance(key, rsa.RSAPublicKey):
        return KeyType.RSA, key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return KeyType.EC, key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return KeyType.ED25519, 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return KeyType.ED448, 456, None
    if isinstance(key, dsa.DSAPublicKey):
        return KeyType.DSA, key.key_size, None
    return KeyType.OTHER, None, None


def _is_weak(key_type: KeyType, key_size: int | None) -> bool:
    if key_type is KeyType.DSA:
        return True
    if key_size is None:
        return False
    if key_type is KeyType.RSA:
        return key_size < _MIN_RSA_BITS
    return key_type is KeyType.EC and key_size < _MIN_EC_BITS


def _signature_hash(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return None if algorithm is None else algorithm.name


def signature_algorithm_name(cert: x509.Certificate) -> str:
    """The OpenSSL name of ``cert``'s signature algorithm (``md5WithRSAEncryption``...), or its dotted OID."""
    oid = cert.signature_algorithm_oid
    return _SIGNATURE_NAMES.get(oid, oid.dotted_string)


def has_broken_signature_hash(cert: x509.Certificate) -> bool:
    """``cert`` is signed over a hash with practical collisions: MD2, MD4 or MD5."""
    return cert.signature_algorithm_oid in _BROKEN_HASH_SIGNATURES


def has_sha1_signature(cert: x509.Certificate) -> bool:
    """``cert`` is signed over SHA-1."""
    return _signature_hash(cert) == "sha1"


def _hash_of(cert: x509.Certificate) -> hashes.HashAlgorithm:
    """The signature's hash; ``UnsupportedAlgorithm`` when this build cannot compute it (MD2, MD4)."""
    algorithm = cert.signature_hash_algorithm
    if algorithm is None:
        raise UnsupportedAlgorithm(f"{signature_algorithm_name(cert)} names no hash")
    return algorithm


def _verify(cert: x509.Certificate, key: CertificatePublicKeyTypes) -> bool:
    """Verify ``cert``'s signature with ``key``: False when the key cannot have made a signature of its algorithm
    (another key type), ``InvalidSignature`` when it did not make this one, ``UnsupportedAlgorithm`` when the
    algorithm cannot be checked here."""
    oid = cert.signature_algorithm_oid
    signature, data = cert.signature, cert.tbs_certificate_bytes
    if oid in _RSA_PKCS1_SIGNATURES or oid == SignatureAlgorithmOID.RSASSA_PSS:
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        rsa_padding: padding.AsymmetricPadding = padding.PKCS1v15()
        if oid == SignatureAlgorithmOID.RSASSA_PSS:
            pss = cert.signature_algorithm_parameters  # salt length and mask generation, read from the certificate
            if not isinstance(pss, padding.PSS):
                raise UnsupportedAlgorithm("unreadable RSASSA-PSS parameters")
            rsa_padding = pss
        key.verify(signature, data, rsa_padding, _hash_of(cert))
    elif oid in _ECDSA_SIGNATURES:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return False
        key.verify(signature, data, ec.ECDSA(_hash_of(cert)))
    elif oid in _DSA_SIGNATURES:
        if not isinstance(key, dsa.DSAPublicKey):
            return False
        key.verify(signature, data, _hash_of(cert))
    elif oid == SignatureAlgorithmOID.ED25519:
        if not isinstance(key, ed25519.Ed25519PublicKey):
            return False
        key.verify(signature, data)
    elif oid == SignatureAlgorithmOID.ED448:
        if not isinstance(key, ed448.Ed448PublicKey):
            return False
        key.verify(signature, data)
    else:
        raise UnsupportedAlgorithm(f"unknown signature algorithm {oid.dotted_string}")
    return True


def _signature_verifies(cert: x509.Certificate, issuer: x509.Certificate) -> bool | None:
    """Whether ``issuer``'s key verifies ``cert``'s signature, however weak its algorithm; None when that cannot
    be checked here (an unknown algorithm, a hash this build cannot compute, a key it cannot load)."""
    try:
        return _verify(cert, issuer.public_key())
    except InvalidSignature:
        return False
    except (UnsupportedAlgorithm, ValueError, TypeError):
        return None


def _key_identifiers_agree(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """``cert``'s authorityKeyIdentifier is ``issuer``'s subjectKeyIdentifier, or one of them is absent (then
    nothing contradicts the names)."""
    authority = _extension(cert, x509.AuthorityKeyIdentifier)
    subject_key = _extension(issuer, x509.SubjectKeyIdentifier)
    if authority is None or authority.key_identifier is None or subject_key is None:
        return True
    return authority.key_identifier == subject_key.key_identifier


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """``issuer`` issued ``cert``: its subject is ``cert``'s issuer name and its key verifies the signature.

    Whether the signature algorithm is acceptable plays no part (that is ``has_broken_signature_hash``'s and path
    validation's business). When the signature cannot be checked here at all, the key identifiers decide: the
    authorityKeyIdentifier must be the issuer's subjectKeyIdentifier when both are present, else the names alone.
    """
    if cert.issuer != issuer.subject:
        return False
    verified = _signature_verifies(cert, issuer)
    return _key_identifiers_agree(cert, issuer) if verified is None else verified


def is_self_signed(cert: x509.Certificate) -> bool:
    """Subject and issuer are the same name and the certificate's own key verifies its signature."""
    return signed_by(cert, cert)


@final
@attrs.frozen(kw_only=True)
class CertificateFacts:
    """What one certificate says, and the certificate itself as PEM."""

    subject: str
    """The subject as an RFC 4514 string."""
    issuer: str
    """The issuer as an RFC 4514 string."""
    san_dns_names: tuple[str, ...]
    """The DNS names of the subjectAltName extension, as written in the certificate."""
    san_ip_addresses: tuple[_IPAddress, ...]
    """The IP addresses of the subjectAltName extension."""
    serial_number: str
    """The serial number in lowercase hexadecimal (an even number of digits)."""
    not_before: datetime.datetime
    """Start of the validity period (UTC)."""
    not_after: datetime.datetime
    """End of the validity period (UTC)."""
    days_left: int
    """Whole days from the time of the facts to ``not_after``, rounded down: negative once expired."""
    expired: bool
    """``not_after`` is before the time of the facts."""
    not_yet_valid: bool
    """``not_before`` is after the time of the facts."""
    key_type: KeyType
    """The public key's type."""
    key_size: int | None
    """The key size in bits: the RSA modulus, the EC curve's order, the DSA prime; 256 for Ed25519 and 456 for
    Ed448 (their encoded public keys); None for keys of other types."""
    ec_curve: str | None
    """The curve of an EC key (``secp256r1``...); None for other keys."""
    weak_key: bool
    """RSA below 2048 bits, EC below 224 bits, or any DSA key."""
    signature_algorithm: str
    """The signature algorithm's OpenSSL name (``sha256WithRSAEncryption``...), or its dotted OID."""
    signature_hash: str | None
    """The hash of the signature (``sha256``, ``sha1``...); None for Ed25519/Ed448 or an unknown algorithm."""
    sha1_fingerprint: str
    """SHA-1 of the DER certificate, lowercase hexadecimal."""
    sha256_fingerprint: str
    """SHA-256 of the DER certificate, lowercase hexadecimal."""
    spki_sha256: str
    """SHA-256 of the SubjectPublicKeyInfo, base64: the pin format of HPKP (RFC 7469)."""
    is_self_signed: bool
    """Subject equals issuer and the certificate's own key verifies its signature."""
    is_ca: bool
    """basicConstraints says cA: TRUE."""
    pem: str
    """The certificate in PEM."""

    @classmethod
    def from_certificate(cls, cert: x509.Certificate, *, now: datetime.datetime) -> CertificateFacts:
        """Read the facts of ``cert``; expiry is judged at ``now`` (an aware datetime)."""
        san = _extension(cert, x509.SubjectAlternativeName)
        basic_constraints = _extension(cert, x509.BasicConstraints)
        key_type, key_size, curve = _key(cert)
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        return cls(
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            san_dns_names=tuple(san.get_values_for_type(x509.DNSName)) if san is not None else (),
            san_ip_addresses=tuple(
                address
                for address in (san.get_values_for_type(x509.IPAddress) if san is not None else ())
                if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address)
            ),
            serial_number=_serial_hex(cert),
            not_before=not_before,
            not_after=not_after,
            days_left=(not_after - now).days,
            expired=now > not_after,
            not_yet_valid=now < not_before,
            key_type=key_type,
            key_size=key_size,
            ec_curve=curve,
            weak_key=_is_weak(key_type, key_size),
            signature_algorithm=signature_algorithm_name(cert),
            signature_hash=_signature_hash(cert),
            sha1_fingerprint=cert.fingerprint(hashes.SHA1()).hex(),
            sha256_fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
            spki_sha256=base64.b64encode(hashlib.sha256(_spki_der(cert)).digest()).decode("ascii"),
            is_self_signed=is_self_signed(cert),
            is_ca=basic_constraints is not None and basic_constraints.ca,
            pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        )


def _unique(certificates: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    seen: list[x509.Certificate] = []
    for cert in certificates:
        if cert not in seen:
            seen.append(cert)
    return seen


def top_of_received(received: Sequence[x509.Certificate]) -> x509.Certificate:
    """Follow issuers from the leaf through the received certificates (in any order) as far as they go."""
    current, used = received[0], [received[0]]
    while not is_self_signed(current):
        parent = next((cert for cert in received if cert not in used and signed_by(current, cert)), None)
        if parent is None:
            break
        current = parent
        used.append(parent)
    return current


@final
@attrs.frozen(kw_only=True)
class ChainFacts:
    """How good the chain the server sent is, judged alone and against a verified chain."""

    received_chain: tuple[CertificateFacts, ...]
    """The certificates the server sent, leaf first, in the order sent."""
    received_in_valid_order: bool
    """Each certificate but the last was issued by the one right after it (issuer name equals that one's subject
    and its key verifies the signature, however weak the algorithm; when the signature cannot be checked at all,
    the key identifiers must agree). A single certificate is in order."""
    contains_anchor: bool
    """The server sent a trust anchor: a self-signed certificate, or the root of the verified chain (byte for
    byte). Harmless but wasted bytes; a self-signed leaf counts."""
    incomplete: bool
    """No verified chain, and an issuer is missing: following issuers from the leaf through the received
    certificates (any order) stops at a certificate that is not self-signed and whose issuer is neither among
    them nor in the trust anchors consulted. An intermediate was not sent, or the chain leads to a root no
    consulted store has: without fetching (AIA) the two cannot be told apart. False whenever validation
    succeeded against some store, or failed for another reason (expiry, a forbidden algorithm...)."""
    missing_issuer: str | None
    """When ``incomplete``: the RFC 4514 name of the issuer that was not found."""
    sha1_in_verified_chain: bool | None
    """A certificate of the verified chain, other than its anchor (whose signature nobody checks), is signed with
    SHA-1. None when there is no verified chain. (``cryptography``'s Web PKI policy refuses SHA-1 signatures, so a
    chain it verified never has one.)"""
    sha1_signed: tuple[str, ...]
    """Subjects of the received certificates that are signed with SHA-1 and are not self-signed."""
    broken_hash_signed: tuple[str, ...]
    """Subjects of the received certificates that are signed over a hash with practical collisions (MD2, MD4, MD5)
    and are not self-signed (a root's own signature is never checked). Such a chain still has its structure:
    ``received_in_valid_order`` and ``incomplete`` do not depend on it."""
    weak_keys: tuple[str, ...]
    """Subjects of the certificates (received, then the verified chain's others) with a weak key: RSA below 2048
    bits, EC below 224 bits, or DSA."""
    any_expired: bool
    """A received or verified certificate is past its ``not_after``."""
    any_not_yet_valid: bool
    """A received or verified certificate is before its ``not_before``."""

    @classmethod
    def from_chains(
        cls,
        received: Sequence[x509.Certificate],
        verified: Sequence[x509.Certificate] | None,
        *,
        now: datetime.datetime,
        anchors: Iterable[x509.Certificate] = (),
    ) -> ChainFacts:
        """Judge ``received`` (leaf first), given a ``verified`` chain (leaf to anchor) or None, at ``now``.

        ``anchors`` are the certificates of every trust store consulted; they are needed only to tell a missing
        issuer (``incomplete``) from a validation that failed for another reason.
        """
        if not received:
            raise ValueError("no certificate was received")
        received_facts = tuple(CertificateFacts.from_certificate(cert, now=now) for cert in received)
        all_certificates = _unique([*received, *(verified or ())])
        all_facts = [CertificateFacts.from_certificate(cert, now=now) for cert in all_certificates]

        incomplete, missing_issuer = False, None
        if verified is None:
            top = top_of_received(received)
            if not is_self_signed(top) and not any(signed_by(top, anchor) for anchor in anchors):
                incomplete, missing_issuer = True, top.issuer.rfc4514_string()

        return cls(
            received_chain=received_facts,
            received_in_valid_order=all(signed_by(cert, parent) for cert, parent in itertools.pairwise(received)),
            contains_anchor=any(facts.is_self_signed for facts in received_facts)
            or (verified is not None and len(verified) > 0 and verified[-1] in received),
            incomplete=incomplete,
            missing_issuer=missing_issuer,
            sha1_in_verified_chain=(
                None if verified is None else any(has_sha1_signature(cert) for cert in verified[:-1])
            ),
            sha1_signed=tuple(
                facts.subject for facts in received_facts if facts.signature_hash == "sha1" and not facts.is_self_signed
            ),
            broken_hash_signed=tuple(
                facts.subject
                for cert, facts in zip(received, received_facts, strict=True)
                if has_broken_signature_hash(cert) and not facts.is_self_signed
            ),
            weak_keys=tuple(facts.subject for facts in all_facts if facts.weak_key),
            any_expired=any(facts.expired for facts in all_facts),
            any_not_yet_valid=any(facts.not_yet_valid for facts in all_facts),
        )
