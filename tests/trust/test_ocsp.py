"""Stapled OCSP responses built with cryptography's OCSPResponseBuilder, signed by the issuer, by delegated
responders and by the wrong keys; must-staple; SCTs inside the response."""

from __future__ import annotations

import datetime
import json

import attrs
import jsonschema
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.trust.test_sct import LOG_A, LOG_B, WHEN, der_octet_string, sct_list, serialized_sct
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._json_schema import json_schema
from tlsprobe.trust._ocsp import (
    OCSPCertStatus,
    OCSPResponseStatus,
    OCSPStapling,
    StapledOCSP,
    has_must_staple,
    interpret_ocsp_stapling,
    parse_stapled_ocsp,
)
from tlsprobe.trust._sct import SCT_LIST_OCSP_EXTENSION_OID, SCTSource

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)

_Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: _Key,
    *,
    issuer: x509.Certificate | None = None,
    issuer_key: _Key | None = None,
    ca: bool = False,
    extensions: tuple[x509.ExtensionType, ...] = (),
    serial: int | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer is not None else _name(subject))
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + 30 * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    signer = issuer_key if issuer_key is not None else key
    algorithm = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(signer, algorithm)


def _ocsp_eku() -> x509.ExtendedKeyUsage:
    return x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING])


@attrs.frozen
class PKI:
    ca_key: ec.EllipticCurvePrivateKey
    ca: x509.Certificate
    leaf: x509.Certificate
    other_leaf: x509.Certificate
    responder_key: ec.EllipticCurvePrivateKey
    responder: x509.Certificate
    stranger_key: ec.EllipticCurvePrivateKey


@pytest.fixture(scope="module")
def pki() -> PKI:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("OCSP test CA", ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    responder_key = ec.generate_private_key(ec.SECP256R1())
    return PKI(
        ca_key=ca_key,
        ca=ca,
        leaf=_certificate("leaf.test", leaf_key, issuer=ca, issuer_key=ca_key, serial=0x1234),
        other_leaf=_certificate("other.test", leaf_key, issuer=ca, issuer_key=ca_key, serial=0x5678),
        responder_key=responder_key,
        responder=_certificate(
            "OCSP responder", responder_key, issuer=ca, issuer_key=ca_key, extensions=(_ocsp_eku(),)
        ),
        stranger_key=ec.generate_private_key(ec.SECP256R1()),
    )


def _response(
    pki: PKI,
    *,
    about: x509.Certificate | None = None,
    status: ocsp.OCSPCertStatus = ocsp.OCSPCertStatus.GOOD,
    this_update: datetime.datetime = NOW - HOUR,
    next_update: datetime.datetime | None = NOW + DAY,
    revocation_time: datetime.datetime | None = None,
    revocation_reason: x509.ReasonFlags | None = None,
    responder: x509.Certificate | None = None,
    encoding: ocsp.OCSPResponderEncoding = ocsp.OCSPResponderEncoding.HASH,
    signer: _Key | None = None,
    certificates: tuple[x509.Certificate, ...] = (),
    extensions: tuple[x509.ExtensionType, ...] = (),
    cert_id_hash: hashes.HashAlgorithm | None = None,
) -> ocsp.OCSPResponse:
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=about or pki.leaf,
            issuer=pki.ca,
            algorithm=cert_id_hash or hashes.SHA1(),
            cert_status=status,
            this_update=this_update,
            next_update=next_update,
            revocation_time=revocation_time,
            revocation_reason=revocation_reason,
        )
        .responder_id(encoding, responder or pki.ca)
    )
    if certificates:
        builder = builder.certificates(list(certificates))
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    key = signer or pki.ca_key
    return builder.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())


def _der(response: ocsp.OCSPResponse) -> bytes:
    return response.public_bytes(serialization.Encoding.DER)


def test_good_response_signed_by_the_issuer(pki: PKI) -> None:
    result = parse_stapled_ocsp(_der(_response(pki)), pki.leaf, pki.ca, now=NOW)
    assert result == StapledOCSP(
        response_status=OCSPResponseStatus.SUCCESSFUL,
        error=None,
        matches_leaf=True,
        cert_status=OCSPCertStatus.GOOD,
        revocation_time=None,
        revocation_reason=None,
        produced_at=result.produced_at,
        this_update=NOW - HOUR,
        next_update=NOW + DAY,
        expired=False,
        responder_name=None,
        responder_key_hash=x509.SubjectKeyIdentifier.from_public_key(pki.ca_key.public_key()).digest,
        signer="CN=OCSP test CA",
        trusted=True,
        trust_error=None,
        scts=(),
        sct_error=None,
    )
    assert result.produced_at is not None and abs(result.produced_at - datetime.datetime.now(datetime.UTC)) < HOUR


def test_revoked_response_gives_time_and_reason(pki: PKI) -> None:
    response = _response(
        pki,
        status=ocsp.OCSPCertStatus.REVOKED,
        revocation_time=NOW - 2 * DAY,
        revocation_reason=x509.ReasonFlags.key_compromise,
    )
    result = parse_stapled_ocsp(_der(response), pki.leaf, pki.ca, now=NOW)
    assert (result.cert_status, result.revocation_time, result.revocation_reason, result.trusted) == (
        OCSPCertStatus.REVOKED,
        NOW - 2 * DAY,
        x509.ReasonFlags.key_compromise,
        True,
    )


def test_unknown_status_and_sha256_cert_id(pki: PKI) -> None:
    response = _response(pki, status=ocsp.OCSPCertStatus.UNKNOWN, cert_id_hash=hashes.SHA256())
    result = parse_stapled_ocsp(_der(response), pki.leaf, pki.ca, now=NOW)
    assert (result.matches_leaf, result.cert_status, result.revocation_time) == (True, OCSPCertStatus.UNKNOWN, None)


def test_next_update_in_the_past_is_expired_and_absent_next_update_is_not(pki: PKI) -> None:
    stale = _response(pki, this_update=NOW - 10 * DAY, next_update=NOW - DAY)
    result = parse_stapled_ocsp(_der(stale), pki.leaf, pki.ca, now=NOW)
    assert (result.expired, result.next_update, result.cert_status) == (True, NOW - DAY, OCSPCertStatus.GOOD)
    open_ended = parse_stapled_ocsp(_der(_response(pki, next_update=None)), pki.leaf, pki.ca, now=NOW)
    assert (open_ended.expired, open_ended.next_update) == (False, None)


def test_delegated_responder_named_by_name_is_trusted(pki: PKI) -> None:
    response = _response(
        pki,
        responder=pki.responder,
        encoding=ocsp.OCSPResponderEncoding.NAME,
        signer=pki.responder_key,
        certificates=(pki.responder,),
    )
    result = parse_stapled_ocsp(_der(response), pki.leaf, pki.ca, now=NOW)
    assert (result.responder_name, result.responder_key_hash) == ("CN=OCSP responder", None)
    assert (result.trusted, result.trust_error, result.signer) == (True, None, "CN=OCSP responder")


def test_delegated_responder_without_the_ocsp_signing_eku_is_not_trusted(pki: PKI) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    server_auth = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    responder = _certificate("No EKU responder", key, issuer=pki.ca, issuer_key=pki.ca_key, extensions=(server_auth,))
    response = _response(pki, responder=responder, signer=key, certificates=(responder,))
    result = parse_stapled_ocsp(_der(response), pki.leaf, pki.ca, now=NOW)
    assert (result.trusted, result.signer) == (False, None)
    assert (
        result.trust_error == "the responder certificate 'CN=No EKU responder' lacks the OCSPSigning extended key usage"
    )
    assert result.cert_status is OCSPCertStatus.GOOD  # still read, just not trusted


def test_delegated_responder_from_another_ca_is_not_trusted(pki: PKI) -> None:
    rogue = _certificate("Rogue responder", pki.stranger_key, extensions=(_ocsp_eku(),))
    response = _response(pki, responder=rogue, signer=pki.stranger_key, certificates=(rogue,))
    result = parse_stapled_ocsp(_der(response), pki.leaf, pki.ca, now=NOW)
    assert (result.trusted, result.trust_error) == (
        False,
        "the responder certificate 'CN=Rogue responder' is not issued by the leaf's issuer",
    )


def test_expired_delegated_responder_is_not_trusted(pki: PKI) -> None:
    response = _response(pki, responder=pki.responder, signer=pki.responder_key, certificates=(pki.responder,))
    result = parse_stapled_ocsp(_der(response), pki.leaf, pki.ca, now=NOW + 60 * DAY)
    assert (result.trusted, result.trust_error, result.expired) == (
        False,
        "the responder certificate 'CN=OCSP responder' is not valid at the time of the scan",
        True,
    )


def test_response_naming_the_issuer_but_signed_by_another_key_is_not_trusted(pki: PKI) -> None:
    response = _rebuilt(_der(_response(pki)), pki.stranger_key)
    result = parse_stapled_ocsp(response, pki.leaf, pki.ca, now=NOW)
    assert (result.trusted, result.trust_error, result.signer) == (
        False,
        "the signature does not verify with the issuer's key",
        None,
    )


def test_delegated_responder_whose_key_did_not_sign_is_not_trusted(pki: PKI) -> None:
    genuine = _response(pki, responder=pki.responder, signer=pki.responder_key, certificates=(pki.responder,))
    result = parse_stapled_ocsp(_rebuilt(_der(genuine), pki.stranger_key), pki.leaf, pki.ca, now=NOW)
    assert (result.trusted, result.trust_error) == (
        False,
        "the signature does not verify with the responder certificate 'CN=OCSP responder'",
    )


def test_responder_that_is_neither_issuer_nor_included_is_not_trusted(pki: PKI) -> None:
    response = _response(pki, responder=pki.responder, signer=pki.responder_key)  # certificate left out
    result = parse_stapled_ocsp(_der(response), pki.leaf, pki.ca, now=NOW)
    assert (result.trusted, result.trust_error) == (
        False,
        "the responder is neither the issuer nor a certificate included in the response",
    )


def test_unknown_issuer_leaves_trust_open_but_still_matches_serial_and_name(pki: PKI) -> None:
    result = parse_stapled_ocsp(_der(_response(pki)), pki.leaf, None, now=NOW)
    assert (result.matches_leaf, result.cert_status, result.trusted, result.trust_error) == (
        True,
        OCSPCertStatus.GOOD,
        None,
        "the issuer certificate is unknown, so the signature was not checked",
    )


def test_response_about_another_certificate_is_reported_as_such(pki: PKI) -> None:
    result = parse_stapled_ocsp(_der(_response(pki, about=pki.other_leaf)), pki.leaf, pki.ca, now=NOW)
    assert (result.response_status, result.matches_leaf, result.cert_status, result.this_update) == (
        OCSPResponseStatus.SUCCESSFUL,
        False,
        None,
        None,
    )
    assert result.error == "the response is about another certificate (serial number 0x5678, not the leaf's 0x1234)"
    assert result.trusted is True  # a genuine response, just not about this leaf


def test_response_with_the_leaf_serial_but_another_issuer_key_is_about_another_certificate(pki: PKI) -> None:
    other_key = ec.generate_private_key(ec.SECP256R1())
    twin_ca = _certificate("OCSP test CA", other_key, ca=True)  # same name, other key
    twin_leaf = _certificate("leaf.test", other_key, issuer=twin_ca, issuer_key=other_key, serial=0x1234)
    response = (
        ocsp.OCSPResponseBuilder()
        .add_response(twin_leaf, twin_ca, hashes.SHA1(), ocsp.OCSPCertStatus.GOOD, NOW - HOUR, NOW + DAY, None, None)
        .responder_id(ocsp.OCSPResponderEncoding.HASH, twin_ca)
        .sign(other_key, hashes.SHA256())
    )
    result = parse_stapled_ocsp(_der(response), pki.leaf, pki.ca, now=NOW)
    assert (result.matches_leaf, result.error, result.trusted) == (
        False,
        "the response is about another certificate (the leaf's serial number, but another issuer key)",
        False,
    )
    # Without the issuer only the serial and the issuer name can be compared: they match.
    assert parse_stapled_ocsp(_der(response), pki.leaf, None, now=NOW).matches_leaf is True


@pytest.mark.parametrize("garbage", [b"", b"garbage", b"\x30\x03\x0a\x01", b"\x30\x80" + b"\x00" * 40])
def test_malformed_bytes_become_a_malformed_result(pki: PKI, garbage: bytes) -> None:
    result = parse_stapled_ocsp(garbage, pki.leaf, pki.ca, now=NOW)
    assert (result.response_status, result.matches_leaf, result.trusted, result.scts) == (
        OCSPResponseStatus.MALFORMED,
        None,
        None,
        (),
    )
    assert result.error is not None and result.error.startswith("not a DER OCSP response: ")


def test_unsuccessful_response_has_only_its_status(pki: PKI) -> None:
    unsuccessful = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER)
    result = parse_stapled_ocsp(_der(unsuccessful), pki.leaf, pki.ca, now=NOW)
    assert (result.response_status, result.error, result.cert_status, result.trusted) == (
        OCSPResponseStatus.TRY_LATER,
        "the responder answered try_later, with no certificate status",
        None,
        None,
    )


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_rsa_and_ed25519_issuers_verify(kind: str) -> None:
    key: _Key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ed25519.Ed25519PrivateKey.generate()
    ca = _certificate(f"{kind} CA", key, ca=True)
    leaf = _certificate("leaf.test", ec.generate_private_key(ec.SECP256R1()), issuer=ca, issuer_key=key)
    pki = PKI(
        ca_key=ec.generate_private_key(ec.SECP256R1()),  # unused
        ca=ca,
        leaf=leaf,
        other_leaf=leaf,
        responder_key=ec.generate_private_key(ec.SECP256R1()),
        responder=leaf,
        stranger_key=ec.generate_private_key(ec.SECP256R1()),
    )
    response = _der(_response(pki, signer=key))
    assert parse_stapled_ocsp(response, leaf, ca, now=NOW).trusted is True
    tampered = response[:-1] + bytes([response[-1] ^ 1])  # the signature is the last thing in the DER
    assert parse_stapled_ocsp(tampered, leaf, ca, now=NOW).trust_error == (
        "the signature does not verify with the issuer's key"
    )


# --- SCTs in the response ----------------------------------------------------------------------------------------


def _tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, content start, end) of the DER element at ``offset``."""
    tag, first = data[offset], data[offset + 1]
    if first < 0x80:
        return tag, offset + 2, offset + 2 + first
    count = first & 0x7F
    length = int.from_bytes(data[offset + 2 : offset + 2 + count], "big")
    return tag, offset + 2 + count, offset + 2 + count + length


def _children(content: bytes) -> list[bytes]:
    children, offset = [], 0
    while offset < len(content):
        _, _, end = _tlv(content, offset)
        children.append(content[offset:end])
        offset = end
    return children


def _content(element: bytes) -> bytes:
    _, start, end = _tlv(element, 0)
    return element[start:end]


def _encode(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(encoded)]) + encoded + content


_SCT_OCSP_OID_DER = bytes.fromhex("060a2b06010401d679020405")  # 1.3.6.1.4.1.11129.2.4.5


def _rebuilt(response_der: bytes, key: ec.EllipticCurvePrivateKey, *, sct_extension: bytes | None = None) -> bytes:
    """Re-sign the response with ``key`` (the builder only signs with the responder's own key), first adding an SCT
    singleExtension to the first SingleResponse when asked (the builder only writes responseExtensions, while
    RFC 6962 responders use singleExtensions)."""
    status, response_bytes = _children(_content(response_der))
    response_type, basic_octets = _children(_content(_content(response_bytes)))
    tbs, algorithm, _signature, *certs = _children(_content(_content(basic_octets)))
    if sct_extension is not None:
        tbs_parts = _children(_content(tbs))
        responses_index = next(index for index, part in enumerate(tbs_parts) if part[0] == 0x18) + 1
        first, *others = _children(_content(tbs_parts[responses_index]))
        extension = _encode(0x30, _SCT_OCSP_OID_DER + _encode(0x04, sct_extension))
        first = _encode(0x30, _content(first) + _encode(0xA1, _encode(0x30, extension)))
        tbs_parts[responses_index] = _encode(0x30, first + b"".join(others))
        tbs = _encode(0x30, b"".join(tbs_parts))
    signature = _encode(0x03, b"\x00" + key.sign(tbs, ec.ECDSA(hashes.SHA256())))
    basic = _encode(0x30, tbs + algorithm + signature + b"".join(certs))
    inner = _encode(0x30, response_type + _encode(0x04, basic))
    return _encode(0x30, status + _encode(0xA0, inner))


def test_scts_in_a_single_extension_are_read(pki: PKI) -> None:
    value = der_octet_string(sct_list(serialized_sct(), serialized_sct(LOG_B)))
    response_der = _rebuilt(_der(_response(pki)), pki.ca_key, sct_extension=value)
    # The surgery is sound: cryptography recognises the SCT singleExtension and the signature still verifies.
    parsed = ocsp.load_der_ocsp_response(response_der)
    assert isinstance(
        parsed.single_extensions.get_extension_for_oid(SCT_LIST_OCSP_EXTENSION_OID).value,
        x509.SignedCertificateTimestamps,
    )
    result = parse_stapled_ocsp(response_der, pki.leaf, pki.ca, now=NOW)
    assert (result.trusted, result.cert_status, result.sct_error) == (True, OCSPCertStatus.GOOD, None)
    assert [(sct.source, sct.log_id, sct.timestamp) for sct in result.scts] == [
        (SCTSource.OCSP_RESPONSE, LOG_A, WHEN),
        (SCTSource.OCSP_RESPONSE, LOG_B, WHEN),
    ]


def test_scts_in_a_response_extension_are_read(pki: PKI) -> None:
    value = der_octet_string(sct_list(serialized_sct(LOG_B)))
    response = _response(pki, extensions=(x509.UnrecognizedExtension(SCT_LIST_OCSP_EXTENSION_OID, value),))
    result = parse_stapled_ocsp(_der(response), pki.leaf, pki.ca, now=NOW)
    assert [(sct.source, sct.log_id) for sct in result.scts] == [(SCTSource.OCSP_RESPONSE, LOG_B)]
    assert (result.sct_error, result.trusted) == (None, True)


def test_a_broken_sct_list_is_an_sct_error_not_a_failure(pki: PKI) -> None:
    value = der_octet_string(b"\x00\x09broken")
    response = _response(pki, extensions=(x509.UnrecognizedExtension(SCT_LIST_OCSP_EXTENSION_OID, value),))
    result = parse_stapled_ocsp(_der(response), pki.leaf, pki.ca, now=NOW)
    assert (result.scts, result.sct_error, result.cert_status) == (
        (),
        "SCT list: declares 9 bytes at offset 0, only 6 follow",
        OCSPCertStatus.GOOD,
    )


# --- must-staple ---------------------------------------------------------------------------------------------------


def _must_staple_leaf(pki: PKI) -> x509.Certificate:
    return _certificate(
        "leaf.test",
        ec.generate_private_key(ec.SECP256R1()),
        issuer=pki.ca,
        issuer_key=pki.ca_key,
        serial=0x1234,
        extensions=(x509.TLSFeature([x509.TLSFeatureType.status_request]),),
    )


def test_must_staple_is_the_tls_feature_status_request(pki: PKI) -> None:
    assert has_must_staple(_must_staple_leaf(pki)) is True
    assert has_must_staple(pki.leaf) is False
    v2_only = _certificate(
        "v2.test",
        pki.stranger_key,
        extensions=(x509.TLSFeature([x509.TLSFeatureType.status_request_v2]),),
    )
    assert has_must_staple(v2_only) is False


def test_must_staple_with_nothing_stapled_is_a_finding(pki: PKI) -> None:
    leaf = _must_staple_leaf(pki)
    assert interpret_ocsp_stapling(leaf, pki.ca, None, now=NOW) == OCSPStapling(
        must_staple=True, response=None, must_staple_violated=True
    )
    good = interpret_ocsp_stapling(leaf, pki.ca, _der(_response(pki, about=leaf)), now=NOW)
    assert (good.must_staple_violated, good.response is not None and good.response.cert_status) == (
        False,
        OCSPCertStatus.GOOD,
    )
    elsewhere = interpret_ocsp_stapling(leaf, pki.ca, _der(_response(pki, about=pki.other_leaf)), now=NOW)
    assert elsewhere.must_staple_violated is True
    assert interpret_ocsp_stapling(pki.leaf, pki.ca, None, now=NOW) == OCSPStapling(
        must_staple=False, response=None, must_staple_violated=False
    )


def test_results_convert_to_json_that_matches_the_generated_schema(pki: PKI) -> None:
    value = der_octet_string(sct_list(serialized_sct()))
    response = _response(
        pki,
        status=ocsp.OCSPCertStatus.REVOKED,
        revocation_time=NOW - DAY,
        revocation_reason=x509.ReasonFlags.superseded,
        extensions=(x509.UnrecognizedExtension(SCT_LIST_OCSP_EXTENSION_OID, value),),
    )
    stapling = interpret_ocsp_stapling(_must_staple_leaf(pki), pki.ca, _der(response), now=NOW)
    document = to_jsonable(stapling)
    assert document["must_staple"] is True
    assert document["response"]["cert_status"] == "revoked"
    assert document["response"]["revocation_reason"] == "superseded"
    assert document["response"]["revocation_time"] == (NOW - DAY).isoformat()
    assert document["response"]["scts"][0]["source"] == "ocsp_response"
    json.dumps(document)
    definitions = json_schema([OCSPStapling])["$defs"]
    jsonschema.validate(document, {"$defs": definitions, "$ref": "#/$defs/OCSPStapling"})
    malformed = interpret_ocsp_stapling(pki.leaf, None, b"junk", now=NOW)
    jsonschema.validate(to_jsonable(malformed), {"$defs": definitions, "$ref": "#/$defs/OCSPStapling"})
