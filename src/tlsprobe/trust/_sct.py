"""Signed certificate timestamps (Certificate Transparency, RFC 6962) from the three places a server can put them.

A CT log promises, with an SCT, to publish a certificate. Browsers want SCTs from several logs, delivered in any of:

- the certificate itself (``embedded``): X.509 extension 1.3.6.1.4.1.11129.2.4.2, added by the CA to the final
  certificate after logging its precertificate;
- the TLS ``signed_certificate_timestamp`` extension (``tls_extension``, type 18) of the ServerHello or, in
  TLS 1.3, of the leaf's CertificateEntry;
- the stapled OCSP response (``ocsp_response``): extension 1.3.6.1.4.1.11129.2.4.5, normally a singleExtension.

All three carry the same ``SignedCertificateTimestampList`` (RFC 6962 §3.3): a 2-byte length, then SCTs each behind
its own 2-byte length. In the two X.509/OCSP extensions the list is further wrapped in a DER OCTET STRING.

Errors: the parsers raise ``ValueError`` with a message saying what is wrong and where; they never return a partial
list. Callers that must not fail (the OCSP parser) catch it and keep the message next to an empty tuple.
Signatures are not verified: that needs each log's public key, which means shipping a log list.
"""

from __future__ import annotations

import base64
import datetime
import enum
import struct
from collections.abc import Iterable
from typing import Final, final

import attrs
from cryptography import x509

__all__ = [
    "SCT_LIST_CERTIFICATE_EXTENSION_OID",
    "SCT_LIST_OCSP_EXTENSION_OID",
    "SCTCounts",
    "SCTSource",
    "SignedCertificateTimestamp",
    "embedded_scts",
    "parse_sct_extension",
    "parse_sct_list",
    "sct_counts",
    "unwrap_octet_string",
]

SCT_LIST_CERTIFICATE_EXTENSION_OID: Final = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
"""The X.509 extension holding SCTs embedded in a certificate (RFC 6962 §3.3)."""
SCT_LIST_OCSP_EXTENSION_OID: Final = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.5")
"""The OCSP extension holding SCTs in a stapled response (RFC 6962 §3.3)."""

# TLS 1.2 HashAlgorithm / SignatureAlgorithm registries (RFC 5246 §7.4.1.4.1, RFC 8422 for the EdDSA code points),
# which RFC 6962 reuses in the SCT's DigitallySigned structure.
_HASH_NAMES: Final = {
    0: "none",
    1: "md5",
    2: "sha1",
    3: "sha224",
    4: "sha256",
    5: "sha384",
    6: "sha512",
    8: "intrinsic",
}
_SIGNATURE_NAMES: Final = {0: "anonymous", 1: "rsa", 2: "dsa", 3: "ecdsa", 7: "ed25519", 8: "ed448"}
_SCT_V1: Final = 0
_LOG_ID_LENGTH: Final = 32
_EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class SCTSource(enum.Enum):
    """Where the server delivered an SCT."""

    EMBEDDED = "embedded"
    """In the certificate (X.509 extension 1.3.6.1.4.1.11129.2.4.2)."""
    TLS_EXTENSION = "tls_extension"
    """In the TLS signed_certificate_timestamp extension."""
    OCSP_RESPONSE = "ocsp_response"
    """In the stapled OCSP response (extension 1.3.6.1.4.1.11129.2.4.5)."""


@final
@attrs.frozen(kw_only=True)
class SignedCertificateTimestamp:
    """One SCT (RFC 6962 §3.2), as delivered; its signature is not verified."""

    source: SCTSource
    """Where it came from."""
    version: int
    """The SCT version: 0 is v1, the only one RFC 6962 defines."""
    log_id: bytes
    """The log's ID: SHA-256 of its public key (32 bytes)."""
    log_id_base64: str
    """The same ID in base64, the form log lists use."""
    timestamp: datetime.datetime
    """When the log saw the certificate (UTC, millisecond precision)."""
    hash_algorithm: str
    """The signature's hash, named as in the TLS 1.2 registry (``sha256``), or ``unknown(N)``."""
    signature_algorithm: str
    """The signature algorithm, named as in the TLS 1.2 registry (``ecdsa``, ``rsa``), or ``unknown(N)``."""
    signature: bytes
    """The log's signature."""
    extensions: bytes
    """The SCT's extensions field (empty in practice)."""
    log_name: str | None = None
    """The log's name, when a caller matched ``log_id`` against a log list; tlsprobe ships none."""


@final
@attrs.frozen(kw_only=True)
class SCTCounts:
    """How many SCTs each delivery path carried."""

    embedded: int
    """In the certificate."""
    tls_extension: int
    """In the TLS extension."""
    ocsp_response: int
    """In the stapled OCSP response."""

    @property
    def total(self) -> int:
        """All of them."""
        return self.embedded + self.tls_extension + self.ocsp_response


def _length_prefixed(data: bytes, offset: int, what: str) -> tuple[bytes, int]:
    """The ``opaque<0..2^16-1>`` at ``offset`` and the offset after it."""
    if offset + 2 > len(data):
        raise ValueError(f"{what}: truncated length (needs 2 bytes at offset {offset}, has {len(data) - offset})")
    (length,) = struct.unpack_from(">H", data, offset)
    end = offset + 2 + length
    if end > len(data):
        raise ValueError(f"{what}: declares {length} bytes at offset {offset}, only {len(data) - offset - 2} follow")
    return data[offset + 2 : end], end


def _parse_sct(serialized: bytes, *, index: int, source: SCTSource) -> SignedCertificateTimestamp:
    what = f"SCT {index}"
    if not serialized:
        raise ValueError(f"{what}: empty")
    version = serialized[0]
    if version != _SCT_V1:
        raise ValueError(f"{what}: version {version} is not v1 (0), the only one RFC 6962 defines")
    fixed = 1 + _LOG_ID_LENGTH + 8  # version, log ID, timestamp
    if len(serialized) < fixed:
        raise ValueError(f"{what}: {len(serialized)} bytes, too short for a log ID and a timestamp")
    log_id = serialized[1 : 1 + _LOG_ID_LENGTH]
    (milliseconds,) = struct.unpack_from(">Q", serialized, 1 + _LOG_ID_LENGTH)
    extensions, offset = _length_prefixed(serialized, fixed, f"{what} extensions")
    if offset + 2 > len(serialized):
        raise ValueError(f"{what}: truncated before the signature algorithms")
    hash_code, signature_code = serialized[offset], serialized[offset + 1]
    signature, end = _length_prefixed(serialized, offset + 2, f"{what} signature")
    if end != len(serialized):
        raise ValueError(f"{what}: {len(serialized) - end} bytes after the signature")
    try:
        timestamp = _EPOCH + datetime.timedelta(milliseconds=milliseconds)  # exact, unlike a float division
    except OverflowError as error:
        raise ValueError(f"{what}: timestamp {milliseconds} ms is out of range") from error
    return SignedCertificateTimestamp(
        source=source,
        version=version,
        log_id=log_id,
        log_id_base64=base64.b64encode(log_id).decode("ascii"),
        timestamp=timestamp,
        hash_algorithm=_HASH_NAMES.get(hash_code, f"unknown({hash_code})"),
        signature_algorithm=_SIGNATURE_NAMES.get(signature_code, f"unknown({signature_code})"),
        signature=signature,
        extensions=extensions,
    )


def parse_sct_list(
    data: bytes, *, source: SCTSource = SCTSource.TLS_EXTENSION
) -> tuple[SignedCertificateTimestamp, ...]:
    """Parse a ``SignedCertificateTimestampList`` (RFC 6962 §3.3), e.g. the TLS extension's body.

    ``source`` is recorded in each SCT. Raises ``ValueError`` (saying which SCT and what is wrong) for anything that
    is not exactly one well-formed list of v1 SCTs; an empty list parses to ``()``.
    """
    body, end = _length_prefixed(data, 0, "SCT list")
    if end != len(data):
        raise ValueError(f"SCT list: {len(data) - end} bytes after the list")
    scts: list[SignedCertificateTimestamp] = []
    offset = 0
    while offset < len(body):
        serialized, offset = _length_prefixed(body, offset, f"SCT {len(scts) + 1}")
        scts.append(_parse_sct(serialized, index=len(scts) + 1, source=source))
    return tuple(scts)


def unwrap_octet_string(der: bytes) -> bytes:
    """The content of a single DER OCTET STRING (tag 0x04) that fills ``der``; ``ValueError`` otherwise."""
    if len(der) < 2 or der[0] != 0x04:
        raise ValueError("SCT extension: not a DER OCTET STRING")
    first = der[1]
    if first < 0x80:
        length, header = first, 2
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(der) < 2 + count:
            raise ValueError("SCT extension: bad DER length")
        length, header = int.from_bytes(der[2 : 2 + count], "big"), 2 + count
    if header + length != len(der):
        raise ValueError(f"SCT extension: the OCTET STRING declares {length} bytes, {len(der) - header} present")
    return der[header:]


def parse_sct_extension(der: bytes, *, source: SCTSource) -> tuple[SignedCertificateTimestamp, ...]:
    """Parse the value of an X.509 or OCSP SCT extension: a DER OCTET STRING wrapping the list."""
    return parse_sct_list(unwrap_octet_string(der), source=source)


def embedded_scts(cert: x509.Certificate) -> tuple[SignedCertificateTimestamp, ...]:
    """The SCTs embedded in ``cert`` (none when it has no SCT extension).

    Raises ``ValueError`` when the certificate's extensions cannot be parsed (cryptography refuses them all then).
    """
    try:
        extension = cert.extensions.get_extension_for_oid(SCT_LIST_CERTIFICATE_EXTENSION_OID)
    except x509.ExtensionNotFound:
        return ()
    value = extension.value
    # cryptography parses this extension into PrecertificateSignedCertificateTimestamps; its public_bytes() gives
    # back the DER extension value, which keeps one parser (and one set of names) for every source.
    return parse_sct_extension(value.public_bytes(), source=SCTSource.EMBEDDED)


def sct_counts(scts: Iterable[SignedCertificateTimestamp]) -> SCTCounts:
    """Count ``scts`` by source."""
    counts = dict.fromkeys(SCTSource, 0)
    for sct in scts:
        counts[sct.source] += 1
    return SCTCounts(
        embedded=counts[SCTSource.EMBEDDED],
        tls_extension=counts[SCTSource.TLS_EXTENSION],
        ocsp_response=counts[SCTSource.OCSP_RESPONSE],
    )
