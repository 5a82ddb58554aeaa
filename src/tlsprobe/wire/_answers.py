"""A server's answer to a hello, as data, read from the events of its flight (pure: no socket).

``interpret_tls_flight`` turns the events of a cleartext flight (``ServerFlightReader``) into ``HelloAccepted`` or
``HelloRejected``; ``interpret_tls13_flight`` reads a decrypted TLS 1.3 flight. An answer that no client could
go on from is malformed, never an acceptance: one choosing what the ClientHello did not offer (a suite, a version, a
compression method, a key share), or a suite of another version than the one it negotiates. The message says what
was wrong and quotes the offending bytes with their position (``ServerHello.evidence``).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe.wire._constants import AlertLevel, ExtensionType
from tlsprobe.wire._hello import ClientHelloSpec
from tlsprobe.wire._server import (
    Alert,
    CertificateMessage,
    CertificateRequest,
    CertificateStatus,
    ChangeCipherSpec,
    EphemeralKey,
    HelloRetryRequest,
    ServerHello,
    ServerKeyExchange,
    ephemeral_key_for_tls13_group,
    parse_signed_server_key_exchange,
)
from tlsprobe.wire._tls13 import CertificateVerify, EncryptedExtensions, Tls13Certificate, Tls13CertificateRequest
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import cipher_suite_by_code, suites_for_version


@attrs.frozen(kw_only=True)
class HelloAccepted:
    """The server answered the hello with a ServerHello (or a HelloRetryRequest, which also picks a suite)."""

    version: TLSVersion
    """The negotiated version."""
    cipher_suite: int
    """The code of the suite the server picked."""
    server_hello: ServerHello | None
    """The ServerHello; None when the server answered with a HelloRetryRequest."""
    hello_retry_request: HelloRetryRequest | None
    """The HelloRetryRequest, when the server asked for another key share."""
    certificates: tuple[bytes, ...]
    """DER certificates of the TLS <= 1.2 Certificate message (empty under TLS 1.3: encrypted)."""
    ephemeral_key: EphemeralKey | None
    """The server's ephemeral key (TLS <= 1.2 ServerKeyExchange, or the TLS 1.3 group)."""
    certificate_requested: bool
    """A TLS <= 1.2 CertificateRequest was seen (TLS 1.3 requests are encrypted and not visible here)."""
    signature_scheme: int | None = None
    """The SignatureScheme of a TLS 1.2 ServerKeyExchange (None when there is none)."""
    ocsp_response: bytes | None = None
    """The DER OCSP response of a TLS <= 1.2 CertificateStatus message (None when nothing was stapled)."""
    abbreviated: bool = False
    """A TLS <= 1.2 ChangeCipherSpec came right after the ServerHello (and any NewSessionTicket): the server
    resumed the session the hello offered, with an abbreviated handshake."""


@attrs.frozen(kw_only=True)
class HelloRejected:
    """The server refused the hello."""

    alert: Alert | None
    """The alert it sent, if any."""
    reason: str
    """A sentence for people."""


@attrs.frozen(kw_only=True)
class SSL2Accepted:
    """The server answered an SSL 2.0 CLIENT-HELLO with a SERVER-HELLO."""

    cipher_kinds: tuple[int, ...]
    """The cipher kinds it supports among those offered."""
    certificate: bytes
    """Its DER certificate."""


@attrs.frozen(kw_only=True)
class Tls13Flight:
    """A TLS 1.3 server's handshake flight, decrypted with the probe's own key share."""

    cipher_suite: int
    """The suite the server picked."""
    key_share_group: int
    """The group of the key exchange."""
    encrypted_extensions: EncryptedExtensions
    """ALPN, early data, server name acknowledgement..."""
    certificate_request: Tls13CertificateRequest | None
    """The server's request for a client certificate, if any."""
    certificate: Tls13Certificate | None
    """The chain, with the OCSP response and SCTs of each entry."""
    certificate_verify: CertificateVerify | None
    """The signature scheme the server used, and whether the signature verifies."""


@attrs.frozen(kw_only=True)
class FirstContact:
    """The first hello a server accepted, kept so that checks whose own first hello would ask the same (or
    less) can read this answer instead of opening a connection."""

    spec: ClientHelloSpec
    """What the hello offered."""
    answer: HelloAccepted
    """The server's answer."""
    flight: Tls13Flight | None
    """Its TLS 1.3 flight, decrypted (None: another version, a HelloRetryRequest, or not readable)."""


HelloOutcome = HelloAccepted | HelloRejected
SSL2Outcome = SSL2Accepted | HelloRejected


def interpret_tls13_flight(events: Sequence[object], server_hello: ServerHello) -> Tls13Flight | HelloRejected:
    found: dict[type, object] = {}
    for event in events:
        if isinstance(event, Alert):
            return HelloRejected(alert=event, reason=f"server sent the alert {event.description_name}")
        found.setdefault(type(event), event)
    extensions = found.get(EncryptedExtensions)
    if not isinstance(extensions, EncryptedExtensions) or server_hello.key_share_group is None:
        raise MalformedServerResponseError("server's TLS 1.3 flight has no EncryptedExtensions or key share")
    request, certificate, verify = (
        found.get(Tls13CertificateRequest),
        found.get(Tls13Certificate),
        found.get(CertificateVerify),
    )
    return Tls13Flight(
        cipher_suite=server_hello.cipher_suite,
        key_share_group=server_hello.key_share_group,
        encrypted_extensions=extensions,
        certificate_request=request if isinstance(request, Tls13CertificateRequest) else None,
        certificate=certificate if isinstance(certificate, Tls13Certificate) else None,
        certificate_verify=verify if isinstance(verify, CertificateVerify) else None,
    )


def interpret_tls_flight(events: list[object], spec: ClientHelloSpec) -> HelloOutcome:
    """What the events of a cleartext flight answer to the hello ``spec`` describes (see the module docstring)."""
    # Some servers send a warning alert (unrecognized_name) and carry on with their ServerHello.
    answers = [event for event in events if not (isinstance(event, Alert) and event.level == AlertLevel.warning)]
    first = answers[0] if answers else events[0]
    if isinstance(first, Alert):
        return HelloRejected(alert=first, reason=f"server sent the alert {first.description_name}")
    if isinstance(first, HelloRetryRequest):
        _check_answer_to_offer(first, spec)
        key = ephemeral_key_for_tls13_group(first.selected_group) if first.selected_group is not None else None
        return HelloAccepted(
            version=TLSVersion.TLS1_3,
            cipher_suite=first.cipher_suite,
            server_hello=None,
            hello_retry_request=first,
            certificates=(),
            ephemeral_key=key,
            certificate_requested=False,
        )
    if not isinstance(first, ServerHello):
        raise MalformedServerResponseError(f"server answered the ClientHello with {type(first).__name__}")
    _check_answer_to_offer(first, spec)
    certificates: tuple[bytes, ...] = ()
    ephemeral_key: EphemeralKey | None = None
    requested = False
    signature_scheme: int | None = None
    ocsp_response: bytes | None = None
    abbreviated = False
    if first.version is TLSVersion.TLS1_3 and first.key_share_group is not None:
        ephemeral_key = ephemeral_key_for_tls13_group(first.key_share_group)
    for event in answers[1:]:
        if isinstance(event, CertificateMessage):
            certificates = event.certificates
        elif isinstance(event, ServerKeyExchange):
            ephemeral_key, signature_scheme = _read_key_exchange(event, first)
        elif isinstance(event, CertificateRequest):
            requested = True
        elif isinstance(event, CertificateStatus):
            ocsp_response = event.ocsp_response
        elif isinstance(event, ChangeCipherSpec):
            abbreviated = True
    return HelloAccepted(
        version=first.version,
        cipher_suite=first.cipher_suite,
        server_hello=first,
        hello_retry_request=None,
        certificates=certificates,
        ephemeral_key=ephemeral_key,
        certificate_requested=requested,
        signature_scheme=signature_scheme,
        ocsp_response=ocsp_response,
        abbreviated=abbreviated,
    )


def _read_key_exchange(message: ServerKeyExchange, hello: ServerHello) -> tuple[EphemeralKey | None, int | None]:
    suite = cipher_suite_by_code(hello.cipher_suite)
    if suite is None:
        return None, None
    try:
        return parse_signed_server_key_exchange(message.body, suite.key_exchange, hello.version)
    except ValueError:
        return None, None  # PSK and SRP key exchanges carry no ephemeral key to report


def _check_answer_to_offer(hello: ServerHello | HelloRetryRequest, spec: ClientHelloSpec) -> None:
    """Raise ``MalformedServerResponseError`` when ``hello`` chose what ``spec`` did not offer, or a suite that is
    not one of the version it negotiates (RFC 8446 §4.1.3-§4.1.4, RFC 5246 §7.4.1.3)."""
    kind = "ServerHello" if isinstance(hello, ServerHello) else "HelloRetryRequest"

    def malformed(problem: str, evidence: str) -> MalformedServerResponseError:
        return MalformedServerResponseError(f"malformed {kind}: {problem}" + (f" ({evidence})" if evidence else ""))

    suite = _suite_name(hello.cipher_suite)
    if hello.cipher_suite not in spec.cipher_suites:
        raise malformed(f"server chose cipher suite {suite}, which was not offered", hello.evidence("cipher_suite"))
    if hello.version > spec.version:
        raise malformed(
            f"server chose {hello.version.label}, which was not offered (the ClientHello went up to "
            f"{spec.version.label})",
            hello.evidence(
                ExtensionType.supported_versions if hello.version is TLSVersion.TLS1_3 else "legacy_version"
            ),
        )
    if (hello.version is TLSVersion.TLS1_3) != (hello.cipher_suite in _TLS13_SUITES):
        kind_of_suite = "a suite of TLS 1.2 and older" if hello.version is TLSVersion.TLS1_3 else "a TLS 1.3 suite"
        raise malformed(
            f"server chose {suite}, {kind_of_suite}, with {hello.version.label}", hello.evidence("cipher_suite")
        )
    if isinstance(hello, HelloRetryRequest):
        group = hello.selected_group
        if group is not None and (group not in spec.groups or group in spec.key_share_groups):
            problem = (
                "a key share the ClientHello sent already"
                if group in spec.key_share_groups
                else "a group the ClientHello did not offer"
            )
            raise malformed(
                f"server asked for {problem} (0x{group:04x}), which a HelloRetryRequest may not",
                hello.evidence(ExtensionType.key_share),
            )
        return
    if hello.compression_method not in spec.compression_methods:
        raise malformed(
            f"server chose compression method {hello.compression_method}, which was not offered",
            hello.evidence("compression_method"),
        )
    group = hello.key_share_group
    if hello.version is TLSVersion.TLS1_3 and group is not None and group not in spec.key_share_groups:
        raise malformed(
            f"server's key share is for group 0x{group:04x}, for which the ClientHello sent none",
            hello.evidence(ExtensionType.key_share),
        )


def _suite_name(code: int) -> str:
    suite = cipher_suite_by_code(code)
    return f"0x{code:04x}" if suite is None else f"0x{code:04x} ({suite.name})"


_TLS13_SUITES = frozenset(suite.code for suite in suites_for_version(TLSVersion.TLS1_3))
