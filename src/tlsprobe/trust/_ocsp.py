"""The OCSP response a server staples to its handshake (RFC 6066 §8, RFC 6960), read and judged without I/O.

What a client would check: is the response successful, is it about this leaf (serial number and issuer hashes of the
CertID), what status it gives, is it still fresh, and who signed it -- the issuer itself, or a delegated responder
whose certificate is in the response, issued by the issuer and marked with the OCSPSigning EKU (RFC 6960 §4.2.2.2).
Also whether the leaf demands stapling (TLS Feature "must-staple", RFC 7633) and, if it does, whether the server
failed to staple a usable response.

Nothing here raises on bad input: undecodable bytes become a result with ``response_status`` ``malformed`` and an
``error``; untrusted signatures a ``trust_error``; broken SCT lists an ``sct_error``.
"""

from __future__ import annotations

import datetime
import enum
from typing import Final, final

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, SignatureAlgorithmOID

from tlsprobe.trust._sct import SCT_LIST_OCSP_EXTENSION_OID, SCTSource, SignedCertificateTimestamp, parse_sct_extension

__all__ = [
    "OCSPCertStatus",
    "OCSPResponseStatus",
    "OCSPStapling",
    "StapledOCSP",
    "has_must_staple",
    "interpret_ocsp_stapling",
    "parse_stapled_ocsp",
]

_RSA_PSS: Final = SignatureAlgorithmOID.RSASSA_PSS


class OCSPResponseStatus(enum.Enum):
    """The outer status of an OCSP response (RFC 6960 §4.2.1), plus ``malformed`` for bytes that are not one."""

    SUCCESSFUL = "successful"
    """A signed answer follows."""
    MALFORMED_REQUEST = "malformed_request"
    """The responder could not parse the request (malformedRequest)."""
    INTERNAL_ERROR = "internal_error"
    """The responder failed (internalError)."""
    TRY_LATER = "try_later"
    """The responder is busy (tryLater)."""
    SIG_REQUIRED = "sig_required"
    """The responder wants signed requests (sigRequired)."""
    UNAUTHORIZED = "unauthorized"
    """The responder does not answer for this certificate (unauthorized)."""
    MALFORMED = "malformed"
    """The stapled bytes are not a DER OCSP response at all; see ``error``."""


class OCSPCertStatus(enum.Enum):
    """What the response says about the certificate (RFC 6960 §4.2.1)."""

    GOOD = "good"
    """Not revoked (as far as the responder knows)."""
    REVOKED = "revoked"
    """Revoked; see the revocation time and reason."""
    UNKNOWN = "unknown"
    """The responder does not know the certificate."""


_RESPONSE_STATUS: Final = {
    ocsp.OCSPResponseStatus.SUCCESSFUL: OCSPResponseStatus.SUCCESSFUL,
    ocsp.OCSPResponseStatus.MALFORMED_REQUEST: OCSPResponseStatus.MALFORMED_REQUEST,
    ocsp.OCSPResponseStatus.INTERNAL_ERROR: OCSPResponseStatus.INTERNAL_ERROR,
    ocsp.OCSPResponseStatus.TRY_LATER: OCSPResponseStatus.TRY_LATER,
    ocsp.OCSPResponseStatus.SIG_REQUIRED: OCSPResponseStatus.SIG_REQUIRED,
    ocsp.OCSPResponseStatus.UNAUTHORIZED: OCSPResponseStatus.UNAUTHORIZED,
}
_CERT_STATUS: Final = {
    ocsp.OCSPCertStatus.GOOD: OCSPCertStatus.GOOD,
    ocsp.OCSPCertStatus.REVOKED: OCSPCertStatus.REVOKED,
    ocsp.OCSPCertStatus.UNKNOWN: OCSPCertStatus.UNKNOWN,
}


@final
@attrs.frozen(kw_only=True)
class StapledOCSP:
    """A stapled OCSP response, read against the leaf it should be about."""

    response_status: OCSPResponseStatus
    """The response's outer status; only ``successful`` responses carry the fields below."""
    error: str | None
    """Why the response tells nothing about the leaf (undecodable, about another certificate...), else None."""
    matches_leaf: bool | None
    """Whether one of its answers is about the leaf: same serial, same issuer name hash and, when the issuer is
    known, same issuer key hash (None when the response is not successful)."""
    cert_status: OCSPCertStatus | None
    """The leaf's status (None unless ``matches_leaf``)."""
    revocation_time: datetime.datetime | None
    """When the leaf was revoked (only when revoked)."""
    revocation_reason: x509.ReasonFlags | None
    """Why, when the responder said (only when revoked)."""
    produced_at: datetime.datetime | None
    """When the responder signed the response."""
    this_update: datetime.datetime | None
    """Start of the validity of the leaf's answer."""
    next_update: datetime.datetime | None
    """End of the validity of the leaf's answer (None: the responder sets no limit)."""
    expired: bool
    """True when ``next_update`` is in the past."""
    responder_name: str | None
    """The responder ID when given by name (RFC 4514 string)."""
    responder_key_hash: bytes | None
    """The responder ID when given by key: SHA-1 of the responder's public key."""
    signer: str | None
    """Subject (RFC 4514) of the certificate whose key verified the signature: the issuer or a delegated
    responder; None when the signature was not verified."""
    trusted: bool | None
    """True when the signature verifies with the issuer's key or with an authorised delegated responder's; None
    when the issuer certificate is unknown (or the response is not successful), so nothing could be checked."""
    trust_error: str | None
    """Why ``trusted`` is not True."""
    scts: tuple[SignedCertificateTimestamp, ...]
    """SCTs carried in the response (source ``ocsp_response``)."""
    sct_error: str | None
    """Why the SCT extension could not be read (then ``scts`` is empty)."""


@final
@attrs.frozen(kw_only=True)
class OCSPStapling:
    """Stapling as a whole: what the leaf demands and what the server stapled."""

    must_staple: bool
    """The leaf carries the TLS Feature extension with status_request (RFC 7633)."""
    response: StapledOCSP | None
    """The stapled response (None: nothing stapled)."""
    must_staple_violated: bool
    """Must-staple is set but no usable response was stapled (nothing, unsuccessful, or about another
    certificate): RFC 7633 clients must then refuse the connection."""


def has_must_staple(cert: x509.Certificate) -> bool:
    """Whether ``cert`` carries the TLS Feature extension (RFC 7633) listing status_request (5).

    A certificate whose extensions cannot be parsed counts as not demanding it (validation rejects it anyway).
    """
    try:
        feature = cert.extensions.get_extension_for_class(x509.TLSFeature).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return x509.TLSFeatureType.status_request in feature


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


def _hash(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()


def _key_hash(cert: x509.Certificate) -> bytes:
    """SHA-1 of the subjectPublicKey BIT STRING: the ResponderID ``byKey`` form (RFC 6960 §4.2.1)."""
    return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest


def _mismatch(single: ocsp.OCSPSingleResponse, leaf: x509.Certificate, issuer: x509.Certificate | None) -> str | None:
    """Why ``single`` is not about ``leaf``, or None when it is."""
    if single.serial_number != leaf.serial_number:
        return f"serial number {single.serial_number:#x}, not the leaf's {leaf.serial_number:#x}"
    algorithm = single.hash_algorithm
    if single.issuer_name_hash != _hash(algorithm, leaf.issuer.public_bytes()):
        return "the leaf's serial number, but another issuer name"
    if issuer is not None:
        # The request builder computes the CertID exactly as RFC 6960 §4.1.1 defines it, for any allowed hash.
        cert_id = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, algorithm).build()
        if single.issuer_key_hash != cert_id.issuer_key_hash:
            return "the leaf's serial number, but another issuer key"
    return None


def _verify(
    public_key: object,
    signature: bytes,
    data: bytes,
    signature_algorithm: x509.ObjectIdentifier,
    hash_algorithm: hashes.HashAlgorithm | None,
) -> None:
    """Raise ``InvalidSignature`` unless ``signature`` over ``data`` verifies with ``public_key``."""
    if isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        public_key.verify(signature, data)
        return
    if hash_algorithm is None:
        raise InvalidSignature("no hash algorithm for this key type")
    if isinstance(public_key, rsa.RSAPublicKey):
        if signature_algorithm == _RSA_PSS:
            raise InvalidSignature("RSASSA-PSS signed responses are not supported")
        public_key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(hash_algorithm))
    elif isinstance(public_key, dsa.DSAPublicKey):
        public_key.verify(signature, data, hash_algorithm)
    else:
        raise InvalidSignature(f"unsupported key type {type(public_key).__name__}")


def _signature_verifies(response: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
    try:
        hash_algorithm = response.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return False
    try:
        _verify(
            cert.public_key(),
            response.signature,
            response.tbs_response_bytes,
            response.signature_algorithm_oid,
            hash_algorithm,
        )
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def _names_responder(response: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
    if response.responder_name is not None:
        return response.responder_name == cert.subject
    return response.responder_key_hash == _key_hash(cert)


def _delegation_error(responder: x509.Certificate, issuer: x509.Certificate, now: datetime.datetime) -> str | None:
    subject = responder.subject.rfc4514_string()
    try:
        responder.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return f"the responder certificate {subject!r} is not issued by the leaf's issuer"
    try:
        usages = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (x509.ExtensionNotFound, ValueError):
        usages = x509.ExtendedKeyUsage([])
    if ExtendedKeyUsageOID.OCSP_SIGNING not in usages:
        return f"the responder certificate {subject!r} lacks the OCSPSigning extended key usage"
    if not responder.not_valid_before_utc <= now <= responder.not_valid_after_utc:
        return f"the responder certificate {subject!r} is not valid at the time of the scan"
    return None


def _trust(
    response: ocsp.OCSPResponse, issuer: x509.Certificate | None, now: datetime.datetime
) -> tuple[bool | None, str | None, str | None]:
    """(trusted, trust_error, signer subject) for a successful response."""
    if issuer is None:
        return None, "the issuer certificate is unknown, so the signature was not checked", None
    if _names_responder(response, issuer):
        if _signature_verifies(response, issuer):
            return True, None, issuer.subject.rfc4514_string()
        return False, "the signature does not verify with the issuer's key", None
    responders = [cert for cert in response.certificates if _names_responder(response, cert)]
    if not responders:
        return False, "the responder is neither the issuer nor a certificate included in the response", None
    errors: list[str] = []
    for responder in responders:
        error = _delegation_error(responder, issuer, now)
        subject = responder.subject.rfc4514_string()
        if error is None and not _signature_verifies(response, responder):
            error = f"the signature does not verify with the responder certificate {subject!r}"
        if error is None:
            return True, None, subject
        errors.append(error)
    return False, "; ".join(errors), None


def _ocsp_scts(response: ocsp.OCSPResponse) -> tuple[tuple[SignedCertificateTimestamp, ...], str | None]:
    """SCTs from the singleExtensions (RFC 6962 §3.3) or, as some responders do, the responseExtensions."""
    try:
        extensions = [*response.single_extensions, *response.extensions]
    except ValueError as error:  # an extension cryptography cannot parse, or several SingleResponses
        return (), f"the response's extensions cannot be read: {error}"
    scts: list[SignedCertificateTimestamp] = []
    for extension in extensions:
        if extension.oid != SCT_LIST_OCSP_EXTENSION_OID:
            continue
        try:
            scts.extend(parse_sct_extension(extension.value.public_bytes(), source=SCTSource.OCSP_RESPONSE))
        except ValueError as error:
            return (), str(error)
    return tuple(scts), None


def _unusable(status: OCSPResponseStatus, error: str | None) -> StapledOCSP:
    return StapledOCSP(
        response_status=status,
        error=error,
        matches_leaf=None,
        cert_status=None,
        revocation_time=None,
        revocation_reason=None,
        produced_at=None,
        this_update=None,
        next_update=None,
        expired=False,
        responder_name=None,
        responder_key_hash=None,
        signer=None,
        trusted=None,
        trust_error=None,
        scts=(),
        sct_error=None,
    )


def parse_stapled_ocsp(
    response_der: bytes, leaf: x509.Certificate, issuer: x509.Certificate | None, *, now: datetime.datetime
) -> StapledOCSP:
    """Read a stapled OCSP response about ``leaf``, signed (RFC 6960) by ``issuer`` or a responder it delegated to.

    ``issuer`` is the certificate that issued the leaf, when known (without it, the signature and the issuer key
    hash cannot be checked). ``now`` (aware) decides ``expired`` and the delegated responder's validity. Never
    raises on bad input.
    """
    now = _utc(now)
    try:
        response = ocsp.load_der_ocsp_response(response_der)
    except ValueError as error:
        return _unusable(OCSPResponseStatus.MALFORMED, f"not a DER OCSP response: {error}")
    status = _RESPONSE_STATUS[response.response_status]
    if status is not OCSPResponseStatus.SUCCESSFUL:
        return _unusable(status, f"the responder answered {status.value}, with no certificate status")
    try:
        mismatches = [(single, _mismatch(single, leaf, issuer)) for single in response.responses]
        trusted, trust_error, signer = _trust(response, issuer, now)
        scts, sct_error = _ocsp_scts(response)
        produced_at = response.produced_at_utc
    except (ValueError, UnsupportedAlgorithm) as error:  # e.g. a CertID hash cryptography does not know
        return _unusable(OCSPResponseStatus.MALFORMED, f"the OCSP response cannot be read: {error}")
    single = next((single for single, reason in mismatches if reason is None), None)
    problem = None
    if single is None:
        reasons = "; ".join(reason for _, reason in mismatches if reason is not None)
        problem = f"the response is about another certificate ({reasons or 'it holds no answer'})"
    next_update = single.next_update_utc if single is not None else None
    revoked = single is not None and single.certificate_status is ocsp.OCSPCertStatus.REVOKED
    return StapledOCSP(
        response_status=status,
        error=problem,
        matches_leaf=single is not None,
        cert_status=_CERT_STATUS[single.certificate_status] if single is not None else None,
        revocation_time=single.revocation_time_utc if single is not None and revoked else None,
        revocation_reason=single.revocation_reason if single is not None and revoked else None,
        produced_at=produced_at,
        this_update=single.this_update_utc if single is not None else None,
        next_update=next_update,
        expired=next_update is not None and now > next_update,
        responder_name=response.responder_name.rfc4514_string() if response.responder_name is not None else None,
        responder_key_hash=response.responder_key_hash,
        signer=signer,
        trusted=trusted,
        trust_error=trust_error,
        scts=scts,
        sct_error=sct_error,
    )


def interpret_ocsp_stapling(
    leaf: x509.Certificate, issuer: x509.Certificate | None, stapled: bytes | None, *, now: datetime.datetime
) -> OCSPStapling:
    """Combine must-staple and the stapled response (``stapled`` None: the server stapled nothing)."""
    must_staple = has_must_staple(leaf)
    response = parse_stapled_ocsp(stapled, leaf, issuer, now=now) if stapled is not None else None
    usable = response is not None and response.matches_leaf is True
    return OCSPStapling(must_staple=must_staple, response=response, must_staple_violated=must_staple and not usable)
