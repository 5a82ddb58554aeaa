"""Reading a TLS 1.3 server's encrypted handshake flight with the client's own key share, sans-I/O.

Under TLS 1.3 only the ServerHello is in the clear. ``Tls13FlightDecryptor`` takes the exact ClientHello a
probe sent, derives the server handshake traffic keys from it, the server's ServerHello and the (EC)DHE secret
of the client's key share, then decrypts the records that follow and parses EncryptedExtensions (ALPN,
early_data, server_name), CertificateRequest, Certificate (with each entry's OCSP response and SCTs),
CertificateVerify (its signature checked when cryptography can) and Finished (always checked, so that a wrong
key schedule or transcript cannot pass unnoticed). The client never sends its own Finished, so only the
server's handshake keys are derived. HelloRetryRequest, PSK handshakes and ML-KEM groups are not supported.

Server bytes are untrusted: anything malformed raises ``Tls13FlightError``, a ``ValueError`` that is also a
``MalformedServerResponseError``; a valid answer this reader cannot follow raises ``Tls13UnsupportedError``.
References: RFC 8446 §4.1.3 (ServerHello), §4.2 (one extension of a type per block), §4.3.1
(EncryptedExtensions), §4.3.2 (CertificateRequest), §4.4.1 (transcript hash), §4.4.2 and §4.4.2.1
(Certificate, OCSP status and SCTs in CertificateEntry), §4.4.3 (CertificateVerify), §4.4.4 (Finished), §5.1
(handshake messages and key changes), §5 and appendix D.4 (ChangeCipherSpec for middlebox compatibility), §5.2
(TLSInnerPlaintext, record size limits), §5.3 (per-record nonce), §5.4 (padding), §6 (alerts), §7.1 (key
schedule), §7.3 (traffic keys), appendix B.4 (cipher suites); RFC 5869 (HKDF); RFC 8439 (ChaCha20-Poly1305);
RFC 6655 (AES-CCM, CCM_8); RFC 6066 §3 (server_name) and §8 (CertificateStatus); RFC 6962 §3.3 (SCT list);
RFC 7301 §3.1 (ALPN).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Protocol, TypeAlias, TypeVar

import attrs
from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe.wire._constants import CHANGE_CIPHER_SPEC_PAYLOAD, ContentType, ExtensionType, HandshakeType
from tlsprobe.wire._hello import parse_client_hello
from tlsprobe.wire._keyshare import (
    KeySharePrivateKey,
    exchange_key_share,
    key_share_entry,
    key_share_public_bytes,
    shared_secret,
    supports_decryption,
)
from tlsprobe.wire._records import MAX_FRAGMENT_LENGTH, Decoder, Record, RecordReader
from tlsprobe.wire._server import (
    Alert,
    HelloRetryRequest,
    ServerHello,
    _alpn_protocol,
    _find_extension,
    _parse_server_hello,
)
from tlsprobe.wire._sigalgs import signature_scheme_by_code
from tlsprobe.wire._versions import TLSVersion

# ------------------------------------------------------------------------------------------------ errors


class Tls13FlightError(MalformedServerResponseError, ValueError):
    """The server's TLS 1.3 flight is malformed, does not decrypt, or its Finished does not verify."""


class Tls13UnsupportedError(ValueError):
    """A valid server answer that this reader cannot decrypt: a HelloRetryRequest, TLS 1.2 or below, a PSK
    handshake, an ML-KEM group, or a cipher suite it does not implement."""


# ------------------------------------------------------------------------------------------------ events


@attrs.frozen(kw_only=True)
class EncryptedExtensions:
    """The server's EncryptedExtensions (RFC 8446 §4.3.1): the extensions that do not shape the keys."""

    extensions: tuple[tuple[int, bytes], ...]
    """Every extension as (type, body), in the order sent."""
    alpn_protocol: str | None
    """The protocol the server selected with ALPN (RFC 7301), or None when it sent no ALPN extension."""
    early_data: bool
    """The server accepted 0-RTT data (an early_data extension, RFC 8446 §4.2.10)."""
    server_name_acknowledged: bool
    """The server used the client's SNI (an empty server_name extension, RFC 6066 §3)."""
    supported_groups: tuple[int, ...]
    """The groups the server prefers, when it tells them (RFC 8446 §4.2.7); empty otherwise."""

    def extension(self, ext_type: int) -> bytes | None:
        """The body of the extension of this type, or None when the server did not send it."""
        return _find_extension(self.extensions, ext_type)


@attrs.frozen(kw_only=True)
class CertificateEntry:
    """One CertificateEntry of a TLS 1.3 Certificate message (RFC 8446 §4.4.2)."""

    cert_data: bytes
    """The certificate as DER (X.509, the only type tlsprobe negotiates)."""
    extensions: tuple[tuple[int, bytes], ...]
    """The entry's extensions as (type, body), in the order sent."""
    ocsp_response: bytes | None
    """The DER OCSPResponse of a status_request extension (RFC 8446 §4.4.2.1), None when absent."""
    signed_certificate_timestamps: tuple[bytes, ...]
    """Each SerializedSCT of a signed_certificate_timestamp extension (RFC 6962 §3.3), empty when absent."""


@attrs.frozen(kw_only=True)
class Tls13Certificate:
    """A TLS 1.3 Certificate message: the server's chain, leaf first, with per-entry extensions."""

    certificate_request_context: bytes
    """Empty in a server's handshake Certificate."""
    entries: tuple[CertificateEntry, ...]
    """The entries in the order sent, leaf first."""

    @property
    def certificates(self) -> tuple[bytes, ...]:
        """The DER certificates, leaf first."""
        return tuple(entry.cert_data for entry in self.entries)


@attrs.frozen(kw_only=True)
class Tls13CertificateRequest:
    """A TLS 1.3 CertificateRequest (RFC 8446 §4.3.2): the server asks for a client certificate."""

    certificate_request_context: bytes
    """Empty in a handshake CertificateRequest."""
    extensions: tuple[tuple[int, bytes], ...]
    """Every extension as (type, body), in the order sent."""
    signature_algorithms: tuple[int, ...]
    """The signature schemes the server accepts in the client's CertificateVerify."""
    signature_algorithms_cert: tuple[int, ...]
    """The schemes accepted in client certificates, when the server says so separately; empty otherwise."""
    certificate_authorities: tuple[bytes, ...]
    """DER DistinguishedNames of the CAs the server accepts (RFC 8446 §4.2.4); empty when not sent."""


@attrs.frozen(kw_only=True)
class CertificateVerify:
    """The server's CertificateVerify (RFC 8446 §4.4.3): a signature over the transcript by the leaf's key."""

    signature_scheme: int
    """The SignatureScheme code the server signed with."""
    signature: bytes
    """The signature bytes."""
    signature_valid: bool | None
    """Whether the signature verifies with the leaf certificate's key; None when it could not be checked
    (no or unparsable leaf certificate, or a scheme tlsprobe cannot verify)."""

    @property
    def signature_scheme_name(self) -> str | None:
        """The IANA name of the scheme, e.g. ``rsa_pss_rsae_sha256``; None when tlsprobe does not know it."""
        scheme = signature_scheme_by_code(self.signature_scheme)
        return None if scheme is None else scheme.name


@attrs.frozen(kw_only=True)
class Finished:
    """The server's Finished (RFC 8446 §4.4.4). Its verify_data has been checked: a mismatch raises."""

    verify_data: bytes
    """HMAC of the transcript under the server finished key."""


Tls13Event: TypeAlias = (
    ServerHello
    | Alert
    | EncryptedExtensions
    | Tls13Certificate
    | Tls13CertificateRequest
    | CertificateVerify
    | Finished
)

# ---------------------------------------------------------------------------------------- key schedule


def hkdf_extract(hash_name: str, salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract (RFC 5869 §2.2); an empty salt is a string of HashLen zeros, as HMAC pads it anyway."""
    return hmac.new(salt, ikm, hash_name).digest()


def hkdf_expand_label(hash_name: str, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """HKDF-Expand-Label (RFC 8446 §7.1): HKDF-Expand with the HkdfLabel structure, "tls13 " prefixed."""
    full_label = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes((len(full_label),)) + full_label + bytes((len(context),)) + context
    output = b""
    block = b""
    counter = 1
    while len(output) < length:
        block = hmac.new(secret, block + info + bytes((counter,)), hash_name).digest()
        output += block
        counter += 1
    return output[:length]


def derive_secret(hash_name: str, secret: bytes, label: bytes, transcript_hash: bytes) -> bytes:
    """Derive-Secret (RFC 8446 §7.1), given the transcript hash rather than the messages."""
    return hkdf_expand_label(hash_name, secret, label, transcript_hash, hashlib.new(hash_name).digest_size)


class _Aead(Protocol):
    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


@attrs.frozen
class _Suite:
    name: str
    hash_name: str
    key_length: int
    tag_length: int
    aead: Callable[[bytes], _Aead]


_IV_LENGTH = 12
_SUITES: dict[int, _Suite] = {
    0x1301: _Suite("TLS_AES_128_GCM_SHA256", "sha256", 16, 16, AESGCM),
    0x1302: _Suite("TLS_AES_256_GCM_SHA384", "sha384", 32, 16, AESGCM),
    0x1303: _Suite("TLS_CHACHA20_POLY1305_SHA256", "sha256", 32, 16, ChaCha20Poly1305),
    0x1304: _Suite("TLS_AES_128_CCM_SHA256", "sha256", 16, 16, AESCCM),
    0x1305: _Suite("TLS_AES_128_CCM_8_SHA256", "sha256", 16, 8, lambda key: AESCCM(key, tag_length=8)),
}


@attrs.frozen(kw_only=True)
class Tls13HandshakeKeys:
    """The server's side of the handshake key schedule (RFC 8446 §7.1, §7.3), for one connection."""

    cipher_suite: int
    """The negotiated cipher suite code."""
    hash_name: str
    """The suite's hash, as hashlib names it (``sha256`` or ``sha384``)."""
    handshake_secret: bytes = attrs.field(repr=False)
    """HKDF-Extract of the (EC)DHE secret under Derive-Secret(early secret, "derived", "")."""
    server_handshake_traffic_secret: bytes = attrs.field(repr=False)
    """Derive-Secret(handshake secret, "s hs traffic", ClientHello...ServerHello)."""
    key: bytes = attrs.field(repr=False)
    """The server's handshake write key."""
    iv: bytes = attrs.field(repr=False)
    """The server's handshake write IV, XORed with each record's sequence number to make its nonce."""
    finished_key: bytes = attrs.field(repr=False)
    """The key of the server's Finished HMAC."""


def server_handshake_keys(cipher_suite: int, secret: bytes, hello_hash: bytes) -> Tls13HandshakeKeys:
    """The server handshake keys from the (EC)DHE shared secret and Hash(ClientHello || ServerHello).

    No PSK: the early secret is HKDF-Extract(0, 0). ``Tls13UnsupportedError`` for a suite not implemented here.
    """
    suite = _SUITES.get(cipher_suite)
    if suite is None:
        raise Tls13UnsupportedError(f"cipher suite 0x{cipher_suite:04x} is not a TLS 1.3 suite tlsprobe decrypts")
    name = suite.hash_name
    zeros = bytes(hashlib.new(name).digest_size)
    early_secret = hkdf_extract(name, zeros, zeros)
    handshake_secret = hkdf_extract(
        name, derive_secret(name, early_secret, b"derived", hashlib.new(name).digest()), secret
    )
    traffic_secret = derive_secret(name, handshake_secret, b"s hs traffic", hello_hash)
    return Tls13HandshakeKeys(
        cipher_suite=cipher_suite,
        hash_name=name,
        handshake_secret=handshake_secret,
        server_handshake_traffic_secret=traffic_secret,
        key=hkdf_expand_label(name, traffic_secret, b"key", b"", suite.key_length),
        iv=hkdf_expand_label(name, traffic_secret, b"iv", b"", _IV_LENGTH),
        finished_key=hkdf_expand_label(name, traffic_secret, b"finished", b"", len(zeros)),
    )


# --------------------------------------------------------------------------- CertificateVerify signatures

_CERTIFICATE_VERIFY_PREFIX = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00"

_RSA_PSS_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    0x0804: hashes.SHA256,
    0x0805: hashes.SHA384,
    0x0806: hashes.SHA512,
    0x0809: hashes.SHA256,
    0x080A: hashes.SHA384,
    0x080B: hashes.SHA512,
}
# RFC 8446 §4.4.3 forbids PKCS#1 v1.5 here, but a server that uses it anyway still signed something.
_RSA_PKCS1_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    0x0201: hashes.SHA1,
    0x0401: hashes.SHA256,
    0x0501: hashes.SHA384,
    0x0601: hashes.SHA512,
}
# TLS 1.3 binds each ECDSA scheme to one curve (RFC 8446 §4.2.3; RFC 8734 for brainpool); None: any curve.
_ECDSA_SCHEMES: dict[int, tuple[type[ec.EllipticCurve] | None, type[hashes.HashAlgorithm]]] = {
    0x0203: (None, hashes.SHA1),
    0x0403: (ec.SECP256R1, hashes.SHA256),
    0x0503: (ec.SECP384R1, hashes.SHA384),
    0x0603: (ec.SECP521R1, hashes.SHA512),
    0x081A: (ec.BrainpoolP256R1, hashes.SHA256),
    0x081B: (ec.BrainpoolP384R1, hashes.SHA384),
    0x081C: (ec.BrainpoolP512R1, hashes.SHA512),
}
_ED25519, _ED448 = 0x0807, 0x0808


def verify_certificate_verify(leaf: bytes, scheme: int, signature: bytes, transcript_hash: bytes) -> bool | None:
    """Whether a server CertificateVerify signature verifies with the DER ``leaf`` certificate's key.

    ``transcript_hash`` is Hash(ClientHello ... Certificate) (RFC 8446 §4.4.3). A key of the wrong type or curve
    for the scheme counts as invalid; None when the leaf cannot be read or the scheme is not implemented here.
    """
    try:
        public_key = serialization.load_der_public_key(_subject_public_key_info(leaf))
    except (ValueError, UnsupportedAlgorithm):
        return None
    content = _CERTIFICATE_VERIFY_PREFIX + transcript_hash
    try:
        return _verify(public_key, scheme, signature, content)
    except InvalidSignature:
        return False
    except UnsupportedAlgorithm:
        return None


_DER_SEQUENCE = 0x30
_DER_VERSION_TAG = 0xA0  # [0] EXPLICIT Version of TBSCertificate
_MAX_DER_LENGTH_BYTES = 4


def _der_element(data: bytes, offset: int) -> tuple[int, int, int]:
    """The tag, content start and end of the DER element at ``offset``; ``ValueError`` when it does not fit."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER element")
    tag, length, start = data[offset], data[offset + 1], offset + 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= _MAX_DER_LENGTH_BYTES or start + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    if start + length > len(data):
        raise ValueError("DER element longer than its container")
    return tag, start, start + length


def _subject_public_key_info(certificate: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of an X.509 certificate (RFC 5280 §4.1), found by walking its TBSCertificate.

    Only the key is wanted here: loading the whole certificate would also judge it, warning about (and in
    future cryptography releases refusing) quirks such as negative serial numbers that real servers still send.
    """
    tag, offset, _end = _der_element(certificate, 0)
    if tag != _DER_SEQUENCE:
        raise ValueError("not a DER certificate")
    tag, offset, _end = _der_element(certificate, offset)
    if tag != _DER_SEQUENCE:
        raise ValueError("no TBSCertificate")
    tag, _start, end = _der_element(certificate, offset)
    if tag == _DER_VERSION_TAG:
        offset = end
    for _field in ("serialNumber", "signature", "issuer", "validity", "subject"):
        _tag, _start, offset = _der_element(certificate, offset)
    tag, _start, end = _der_element(certificate, offset)
    if tag != _DER_SEQUENCE:
        raise ValueError("no SubjectPublicKeyInfo")
    return certificate[offset:end]


def _verify(public_key: object, scheme: int, signature: bytes, content: bytes) -> bool | None:
    if scheme in _RSA_PSS_HASHES or scheme in _RSA_PKCS1_HASHES:
        if not isinstance(public_key, rsa.RSAPublicKey):
            return False
        if scheme in _RSA_PSS_HASHES:
            algorithm = _RSA_PSS_HASHES[scheme]()
            pss = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
            public_key.verify(signature, content, pss, algorithm)
        else:
            public_key.verify(signature, content, padding.PKCS1v15(), _RSA_PKCS1_HASHES[scheme]())
        return True
    if scheme in _ECDSA_SCHEMES:
        curve, hash_type = _ECDSA_SCHEMES[scheme]
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            return False
        if curve is not None and not isinstance(public_key.curve, curve):
            return False
        public_key.verify(signature, content, ec.ECDSA(hash_type()))
        return True
    if scheme == _ED25519:
        if not isinstance(public_key, ed25519.Ed25519PublicKey):
            return False
        public_key.verify(signature, content)
        return True
    if scheme == _ED448:
        if not isinstance(public_key, ed448.Ed448PublicKey):
            return False
        public_key.verify(signature, content)
        return True
    return None


# ------------------------------------------------------------------------------------------------ parsers


def _decoder(data: bytes, what: str) -> Decoder:
    return Decoder(data, what, error=Tls13FlightError)


def _parse_extension_block(decoder: Decoder) -> tuple[tuple[int, bytes], ...]:
    block = decoder.sub(2, "extensions")
    extensions: list[tuple[int, bytes]] = []
    seen: set[int] = set()
    while block.remaining:
        ext_type = block.uint(2, "extension_type")
        if ext_type in seen:
            raise block.error(f"extension {ext_type} appears twice (RFC 8446 §4.2)")
        seen.add(ext_type)
        extensions.append((ext_type, block.vector(2, "extension_data")))
    return tuple(extensions)


def _empty_extension(extensions: tuple[tuple[int, bytes], ...], ext_type: int, name: str) -> bool:
    body = _find_extension(extensions, ext_type)
    if body is None:
        return False
    _decoder(body, f"{name} extension").expect_end()
    return True


def parse_encrypted_extensions(body: bytes) -> EncryptedExtensions:
    """Parse an EncryptedExtensions body (without the handshake header)."""
    decoder = _decoder(body, "EncryptedExtensions")
    extensions = _parse_extension_block(decoder)
    decoder.expect_end()
    groups_body = _find_extension(extensions, ExtensionType.supported_groups)
    groups: tuple[int, ...] = ()
    if groups_body is not None:
        groups_decoder = _decoder(groups_body, "supported_groups extension")
        groups = groups_decoder.uint16s(2, "named_group_list")
        groups_decoder.expect_end()
    return EncryptedExtensions(
        extensions=extensions,
        alpn_protocol=_alpn_protocol(
            _find_extension(extensions, ExtensionType.application_layer_protocol_negotiation), error=Tls13FlightError
        ),
        early_data=_empty_extension(extensions, ExtensionType.early_data, "early_data"),
        server_name_acknowledged=_empty_extension(extensions, ExtensionType.server_name, "server_name"),
        supported_groups=groups,
    )


_OCSP_STATUS_TYPE = 1


def _ocsp_response(body: bytes | None) -> bytes | None:
    if body is None:
        return None
    decoder = _decoder(body, "status_request extension of a CertificateEntry")
    status_type = decoder.uint(1, "status_type")
    if status_type != _OCSP_STATUS_TYPE:
        raise decoder.error(f"status_type {status_type} is not ocsp (1)")
    response = decoder.vector(3, "OCSPResponse", minimum=1)
    decoder.expect_end()
    return response


def _sct_list(body: bytes | None) -> tuple[bytes, ...]:
    if body is None:
        return ()
    decoder = _decoder(body, "signed_certificate_timestamp extension")
    serialized = decoder.sub(2, "sct_list", minimum=1)
    decoder.expect_end()
    scts = []
    while serialized.remaining:
        scts.append(serialized.vector(2, "SerializedSCT", minimum=1))
    return tuple(scts)


def parse_certificate(body: bytes) -> Tls13Certificate:
    """Parse a TLS 1.3 Certificate body (without the handshake header)."""
    decoder = _decoder(body, "Certificate")
    context = decoder.vector(1, "certificate_request_context")
    certificate_list = decoder.sub(3, "certificate_list")
    decoder.expect_end()
    entries = []
    while certificate_list.remaining:
        cert_data = certificate_list.vector(3, "cert_data", minimum=1)
        extensions = _parse_extension_block(certificate_list)
        entries.append(
            CertificateEntry(
                cert_data=cert_data,
                extensions=extensions,
                ocsp_response=_ocsp_response(_find_extension(extensions, ExtensionType.status_request)),
                signed_certificate_timestamps=_sct_list(
                    _find_extension(extensions, ExtensionType.signed_certificate_timestamp)
                ),
            )
        )
    return Tls13Certificate(certificate_request_context=context, entries=tuple(entries))


def _schemes(body: bytes | None, name: str) -> tuple[int, ...]:
    if body is None:
        return ()
    decoder = _decoder(body, f"{name} extension")
    schemes = decoder.uint16s(2, "supported_signature_algorithms", minimum=2)
    decoder.expect_end()
    return schemes


def _certificate_authorities(body: bytes | None) -> tuple[bytes, ...]:
    if body is None:
        return ()
    decoder = _decoder(body, "certificate_authorities extension")
    names = decoder.sub(2, "authorities", minimum=3)
    decoder.expect_end()
    authorities = []
    while names.remaining:
        authorities.append(names.vector(2, "DistinguishedName", minimum=1))
    return tuple(authorities)


def parse_certificate_request(body: bytes) -> Tls13CertificateRequest:
    """Parse a TLS 1.3 CertificateRequest body (without the handshake header)."""
    decoder = _decoder(body, "CertificateRequest")
    context = decoder.vector(1, "certificate_request_context")
    extensions = _parse_extension_block(decoder)
    decoder.expect_end()
    return Tls13CertificateRequest(
        certificate_request_context=context,
        extensions=extensions,
        signature_algorithms=_schemes(
            _find_extension(extensions, ExtensionType.signature_algorithms), "signature_algorithms"
        ),
        signature_algorithms_cert=_schemes(
            _find_extension(extensions, ExtensionType.signature_algorithms_cert), "signature_algorithms_cert"
        ),
        certificate_authorities=_certificate_authorities(
            _find_extension(extensions, ExtensionType.certificate_authorities)
        ),
    )


def parse_certificate_verify(body: bytes) -> tuple[int, bytes]:
    """The (signature scheme, signature) of a CertificateVerify body (without the handshake header)."""
    decoder = _decoder(body, "CertificateVerify")
    scheme = decoder.uint(2, "algorithm")
    signature = decoder.vector(2, "signature", minimum=1)
    decoder.expect_end()
    return scheme, signature


# -------------------------------------------------------------------------------------------- the reader

_HANDSHAKE_HEADER_LENGTH = 4
# RFC 8446 §5.2: TLSCiphertext.length is at most 2^14 + 256, and the inner content at most 2^14.
_MAX_CIPHERTEXT_LENGTH = MAX_FRAGMENT_LENGTH + 256
_T = TypeVar("_T")


class _Step(enum.Enum):
    """Where the reader is in the server's flight; the value lists the handshake messages that may come next."""

    server_hello = (HandshakeType.server_hello,)
    encrypted_extensions = (HandshakeType.encrypted_extensions,)
    certificate_or_request = (HandshakeType.certificate_request, HandshakeType.certificate)
    certificate = (HandshakeType.certificate,)
    certificate_verify = (HandshakeType.certificate_verify,)
    finished = (HandshakeType.finished,)
    done = ()


_NEXT_STEP = {
    HandshakeType.encrypted_extensions: _Step.certificate_or_request,
    HandshakeType.certificate_request: _Step.certificate,
    HandshakeType.certificate: _Step.certificate_verify,
    HandshakeType.certificate_verify: _Step.finished,
    HandshakeType.finished: _Step.done,
}


def _handshake_name(message_type: int) -> str:
    try:
        return HandshakeType(message_type).name
    except ValueError:
        return f"unknown handshake type {message_type}"


def _client_hello_message(client_hello: bytes) -> bytes:
    """The ClientHello handshake message, unwrapped from its records when given as sent."""
    if client_hello[:1] != bytes((ContentType.handshake,)):
        return client_hello
    reader = RecordReader(max_buffered=len(client_hello))
    reader.feed(client_hello)
    message = b""
    try:
        while (record := reader.next_record()) is not None:
            if record.content_type != ContentType.handshake:
                raise ValueError(f"the ClientHello records hold a record of content type {record.content_type}")
            message += record.payload
    except MalformedServerResponseError as error:  # RecordReader speaks of server bytes; these are ours
        raise ValueError(f"the ClientHello is not framed as TLS records: {error}") from None
    if reader.buffered:
        raise ValueError("the ClientHello records end with a truncated record")
    return message


def _client_key_shares(client_hello: bytes) -> dict[int, bytes]:
    body = parse_client_hello(client_hello).extension(ExtensionType.key_share)
    if body is None:
        raise ValueError("the ClientHello has no key_share extension: there is nothing to decrypt with")
    decoder = Decoder(body, "key_share extension of the ClientHello", error=ValueError)
    entries = decoder.sub(2, "client_shares")
    decoder.expect_end()
    shares: dict[int, bytes] = {}
    while entries.remaining:
        group = entries.uint(2, "group")
        shares[group] = entries.vector(2, "key_exchange", minimum=1)
    if not shares:
        raise ValueError("the ClientHello has no key_share entry: there is nothing to decrypt with")
    return shares


class Tls13FlightDecryptor:
    """Decrypts and parses a TLS 1.3 server's handshake flight, from the ClientHello the client sent.

    ``client_hello`` is the exact ClientHello handshake message sent, or the records ``build_client_hello``
    made of it. The key shares come from ``wire.key_share_entry`` (this process's keys) unless
    ``private_keys`` gives the private key of a group.

    Feed the server's bytes from the first one on with ``feed``; or hand over the ServerHello handshake message
    with ``feed_server_hello`` and then the records that follow with ``feed_record`` or ``feed``. The events
    are the ServerHello, then EncryptedExtensions, an optional Tls13CertificateRequest, Tls13Certificate,
    CertificateVerify and Finished, or an ``Alert`` (cleartext or encrypted), after which ``done`` is True and
    later bytes are ignored. ChangeCipherSpec compatibility records are skipped. At most ``max_bytes`` are
    handled. Errors are sticky: once a feed raised, every later one raises the same error.
    """

    def __init__(
        self,
        client_hello: bytes,
        *,
        private_keys: Mapping[int, KeySharePrivateKey] | None = None,
        max_bytes: int = 512 * 1024,
    ) -> None:
        self._client_hello = _client_hello_message(client_hello)
        self._offered_suites = parse_client_hello(self._client_hello).cipher_suites
        self._client_shares = _client_key_shares(self._client_hello)
        self._private_keys = dict(private_keys or {})
        self._max_bytes = max_bytes
        self._received = 0
        self._records = RecordReader(max_buffered=max_bytes)
        self._handshake = bytearray()
        self._step = _Step.server_hello
        self._error: ValueError | None = None
        self._server_hello: ServerHello | None = None
        self._keys: Tls13HandshakeKeys | None = None
        self._aead: _Aead | None = None
        self._sequence = 0
        self._transcript: hashlib._Hash | None = None
        self._leaf: bytes | None = None

    # -- state ------------------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Whether the flight is over: the server's Finished or an alert was read."""
        return self._step is _Step.done

    @property
    def server_hello(self) -> ServerHello | None:
        """The ServerHello, once read."""
        return self._server_hello

    @property
    def keys(self) -> Tls13HandshakeKeys | None:
        """The server handshake keys, once the ServerHello was read."""
        return self._keys

    @property
    def records_decrypted(self) -> int:
        """How many encrypted records were decrypted."""
        return self._sequence

    # -- feeding ----------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[Tls13Event]:
        """Consume bytes received from the server and return the events they complete."""
        return self._guarded(self._feed, data)

    def feed_record(self, record: Record) -> list[Tls13Event]:
        """Consume one record received from the server and return the events it completes."""
        return self._guarded(self._feed_record, record)

    def feed_server_hello(self, message: bytes) -> ServerHello:
        """Consume the ServerHello handshake message (4-byte header included) and derive the keys from it."""
        self._guarded(self._feed_server_hello, message)
        assert self._server_hello is not None
        return self._server_hello

    def _guarded(self, step: Callable[[_T], list[Tls13Event]], argument: _T) -> list[Tls13Event]:
        if self._error is not None:
            raise self._error
        if self.done:
            return []
        try:
            return step(argument)
        except MalformedServerResponseError as error:
            # RecordReader's errors, from server bytes like every other malformation here.
            self._error = error if isinstance(error, Tls13FlightError) else Tls13FlightError(str(error))
        except ValueError as error:
            self._error = error
        raise self._error

    def _count(self, length: int) -> None:
        self._received += length
        if self._received > self._max_bytes:
            raise Tls13FlightError(f"server sent more than {self._max_bytes} bytes without completing its flight")

    def _feed(self, data: bytes) -> list[Tls13Event]:
        self._count(len(data))
        self._records.feed(data)
        events: list[Tls13Event] = []
        while not self.done and (record := self._records.next_record()) is not None:
            events += self._on_record(record)
        return events

    def _feed_record(self, record: Record) -> list[Tls13Event]:
        self._count(5 + len(record.payload))
        return self._on_record(record)

    def _feed_server_hello(self, message: bytes) -> list[Tls13Event]:
        if self._step is not _Step.server_hello:
            raise ValueError("the ServerHello was already fed")
        self._count(len(message))
        decoder = _decoder(message, "ServerHello handshake message")
        if (message_type := decoder.uint(1, "msg_type")) != HandshakeType.server_hello:
            raise decoder.error(f"{_handshake_name(message_type)} where a ServerHello was expected")
        body = decoder.vector(3, "body")
        decoder.expect_end()
        return [self._on_server_hello(message, body)]

    # -- records ----------------------------------------------------------------------------------------

    def _on_record(self, record: Record) -> list[Tls13Event]:
        content_type = record.content_type
        if content_type == ContentType.alert:
            return [self._on_alert(record.payload)]
        if self._keys is None:
            if content_type != ContentType.handshake:
                raise Tls13FlightError(f"server sent a record of content type {content_type} before its ServerHello")
            return self._on_cleartext_handshake(record.payload)
        if content_type == ContentType.change_cipher_spec:
            if record.payload != CHANGE_CIPHER_SPEC_PAYLOAD:
                raise Tls13FlightError(f"ChangeCipherSpec record of {record.payload.hex()} instead of 01")
            return []
        if content_type != ContentType.application_data:
            raise Tls13FlightError(f"server sent a cleartext record of content type {content_type} after ServerHello")
        return self._on_encrypted(record)

    def _on_alert(self, payload: bytes) -> Alert:
        # RFC 8446 §5.1: one alert per record, never fragmented.
        if len(payload) != 2:
            raise Tls13FlightError(f"alert of {len(payload)} bytes instead of 2")
        self._step = _Step.done
        return Alert(level=payload[0], description=payload[1])

    def _on_cleartext_handshake(self, payload: bytes) -> list[Tls13Event]:
        if not payload:
            raise Tls13FlightError("server sent an empty handshake record")
        self._handshake += payload
        if len(self._handshake) < _HANDSHAKE_HEADER_LENGTH:
            return []
        if self._handshake[0] != HandshakeType.server_hello:
            raise Tls13FlightError(
                f"server sent {_handshake_name(self._handshake[0])} where a ServerHello was expected"
            )
        end = _HANDSHAKE_HEADER_LENGTH + int.from_bytes(self._handshake[1:4], "big")
        if end > self._max_bytes:
            raise Tls13FlightError(f"server announced a ServerHello of {end} bytes, more than {self._max_bytes}")
        if len(self._handshake) < end:
            return []
        # RFC 8446 §5.1: the keys change after the ServerHello, so its record must end with it.
        if len(self._handshake) > end:
            raise Tls13FlightError("handshake data follows the ServerHello in its record, across a key change")
        message = bytes(self._handshake)
        self._handshake.clear()
        return [self._on_server_hello(message, message[_HANDSHAKE_HEADER_LENGTH:])]

    def _on_encrypted(self, record: Record) -> list[Tls13Event]:
        assert self._keys is not None and self._aead is not None
        length = len(record.payload)
        if length > _MAX_CIPHERTEXT_LENGTH:
            raise Tls13FlightError(
                f"encrypted record of {length} bytes, more than the {_MAX_CIPHERTEXT_LENGTH} allowed"
            )
        nonce = (int.from_bytes(self._keys.iv, "big") ^ self._sequence).to_bytes(_IV_LENGTH, "big")
        header = bytes((record.content_type,)) + record.version.to_bytes(2, "big") + length.to_bytes(2, "big")
        try:
            plaintext = self._aead.decrypt(nonce, record.payload, header)
        except InvalidTag:
            raise Tls13FlightError(
                f"encrypted record {self._sequence} does not decrypt under the server handshake key: the "
                "ClientHello given is not the one sent, the key share is not this client's, or the record is corrupt"
            ) from None
        self._sequence += 1
        inner = plaintext.rstrip(b"\x00")  # RFC 8446 §5.4: padding is zeros after the content type
        if not inner:
            raise Tls13FlightError("decrypted record has no content type (all padding)")
        content_type, content = inner[-1], inner[:-1]
        if len(content) > MAX_FRAGMENT_LENGTH:
            raise Tls13FlightError(f"decrypted record of {len(content)} bytes, more than {MAX_FRAGMENT_LENGTH}")
        if content_type == ContentType.alert:
            return [self._on_alert(content)]
        if content_type != ContentType.handshake:
            raise Tls13FlightError(f"decrypted record of content type {content_type} before the server's Finished")
        if not content:
            raise Tls13FlightError("decrypted handshake record is empty")
        self._handshake += content
        return self._drain_handshake()

    # -- handshake messages -----------------------------------------------------------------------------

    def _drain_handshake(self) -> list[Tls13Event]:
        events: list[Tls13Event] = []
        while not self.done and len(self._handshake) >= _HANDSHAKE_HEADER_LENGTH:
            length = int.from_bytes(self._handshake[1:4], "big")
            if length > self._max_bytes:
                raise Tls13FlightError(
                    f"server announced a handshake message of {length} bytes, more than the {self._max_bytes} allowed"
                )
            end = _HANDSHAKE_HEADER_LENGTH + length
            if len(self._handshake) < end:
                break
            message = bytes(self._handshake[:end])
            del self._handshake[:end]
            events.append(self._on_message(message))
        if self.done and self._handshake:
            raise Tls13FlightError("handshake data follows the server's Finished in its record, across a key change")
        return events

    def _on_message(self, message: bytes) -> Tls13Event:
        assert self._transcript is not None and self._keys is not None
        message_type = message[0]
        if message_type not in self._step.value:
            expected = " or ".join(_handshake_name(code) for code in self._step.value)
            raise Tls13FlightError(f"server sent {_handshake_name(message_type)} where {expected} was expected")
        body = message[_HANDSHAKE_HEADER_LENGTH:]
        # CertificateVerify signs, and Finished MACs, the transcript up to the message before them.
        transcript_hash = self._transcript.copy().digest()
        self._transcript.update(message)
        self._step = _NEXT_STEP[HandshakeType(message_type)]
        if message_type == HandshakeType.encrypted_extensions:
            return parse_encrypted_extensions(body)
        if message_type == HandshakeType.certificate_request:
            return parse_certificate_request(body)
        if message_type == HandshakeType.certificate:
            certificate = parse_certificate(body)
            self._leaf = certificate.entries[0].cert_data if certificate.entries else None
            return certificate
        if message_type == HandshakeType.certificate_verify:
            scheme, signature = parse_certificate_verify(body)
            valid = (
                None
                if self._leaf is None
                else verify_certificate_verify(self._leaf, scheme, signature, transcript_hash)
            )
            return CertificateVerify(signature_scheme=scheme, signature=signature, signature_valid=valid)
        expected_data = hmac.new(self._keys.finished_key, transcript_hash, self._keys.hash_name).digest()
        if not hmac.compare_digest(body, expected_data):
            raise Tls13FlightError("the server's Finished does not verify against the transcript")
        return Finished(verify_data=body)

    def _on_server_hello(self, message: bytes, body: bytes) -> ServerHello:
        try:
            hello = _parse_server_hello(body)
        except MalformedServerResponseError as error:
            raise Tls13FlightError(str(error)) from None
        if isinstance(hello, HelloRetryRequest):
            raise Tls13UnsupportedError(
                f"server sent a HelloRetryRequest (group {hello.selected_group}): decryption needs a ClientHello "
                "with a key share for the group the server picks"
            )
        if hello.version is not TLSVersion.TLS1_3:
            raise Tls13UnsupportedError(f"server negotiated {hello.version.label}: its flight is not encrypted")
        if hello.extension(ExtensionType.pre_shared_key) is not None:
            raise Tls13UnsupportedError("server chose a pre-shared key: tlsprobe decrypts (EC)DHE handshakes only")
        if hello.cipher_suite not in self._offered_suites:
            raise Tls13FlightError(f"server chose cipher suite 0x{hello.cipher_suite:04x}, which was not offered")
        suite = _SUITES.get(hello.cipher_suite)
        if suite is None:
            raise Tls13UnsupportedError(
                f"cipher suite 0x{hello.cipher_suite:04x} is not a TLS 1.3 suite tlsprobe decrypts"
            )
        group, server_share = self._server_key_share(hello)
        transcript = hashlib.new(suite.hash_name, self._client_hello + message)
        keys = server_handshake_keys(hello.cipher_suite, self._shared_secret(group, server_share), transcript.digest())
        self._transcript = transcript
        self._aead = suite.aead(keys.key)
        self._keys = keys
        self._server_hello = hello
        self._step = _Step.encrypted_extensions
        return hello

    def _server_key_share(self, hello: ServerHello) -> tuple[int, bytes]:
        body = hello.extension(ExtensionType.key_share)
        if body is None:
            raise Tls13FlightError("TLS 1.3 ServerHello without a key_share extension")
        decoder = _decoder(body, "key_share extension")
        group = decoder.uint(2, "group")
        share = decoder.vector(2, "key_exchange", minimum=1)
        decoder.expect_end()
        if group not in self._client_shares:
            raise Tls13FlightError(f"server chose group 0x{group:04x}, for which the client sent no key share")
        if not supports_decryption(group):
            raise Tls13UnsupportedError(
                f"server chose group 0x{group:04x}, whose shared secret tlsprobe cannot compute (ML-KEM keys are "
                "built for their structure only)"
            )
        return group, share

    def _shared_secret(self, group: int, server_share: bytes) -> bytes:
        private_key = self._private_keys.get(group)
        own_share = key_share_entry(group) if private_key is None else key_share_public_bytes(group, private_key)
        if own_share != self._client_shares[group]:
            raise ValueError(
                f"the ClientHello's key share for group 0x{group:04x} was not made with "
                + ("this process's key_share_entry" if private_key is None else "the private key given")
            )
        try:
            if private_key is None:
                return shared_secret(group, server_share)
            return exchange_key_share(group, private_key, server_share)
        except ValueError as error:
            raise Tls13FlightError(str(error)) from None
