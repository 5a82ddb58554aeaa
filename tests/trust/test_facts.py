"""Certificate and chain facts: what the report shows of each certificate and of the chain as sent."""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json

import jsonschema
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.trust import DAY, NOW, trust_pki
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._json_schema import json_schema
from tlsprobe.trust import CertificateFacts, ChainFacts, HostnameValidation, KeyType, match_hostname, mozilla_store

INTERMEDIATE = "CN=tlsprobe trust test intermediate"
ROOT = "CN=tlsprobe trust test root"
SECOND = datetime.timedelta(seconds=1)


def test_leaf_facts() -> None:
    cert = trust_pki().leaf.cert
    der = cert.public_bytes(serialization.Encoding.DER)
    serial = f"{cert.serial_number:x}"
    assert CertificateFacts.from_certificate(cert, now=NOW) == CertificateFacts(
        subject="CN=www.example.com",
        issuer=INTERMEDIATE,
        san_dns_names=("www.example.com", "example.com"),
        san_ip_addresses=(),
        serial_number=serial if len(serial) % 2 == 0 else "0" + serial,
        not_before=NOW - DAY,
        not_after=NOW + 30 * DAY + datetime.timedelta(hours=1),
        days_left=30,
        expired=False,
        not_yet_valid=False,
        key_type=KeyType.EC,
        key_size=256,
        ec_curve="secp256r1",
        weak_key=False,
        signature_algorithm="ecdsa-with-SHA256",
        signature_hash="sha256",
        sha1_fingerprint=hashlib.sha1(der).hexdigest(),
        sha256_fingerprint=hashlib.sha256(der).hexdigest(),
        spki_sha256=_pin(cert),
        is_self_signed=False,
        is_ca=False,
        pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
    )


def test_ip_addresses_in_the_subject_alt_name() -> None:
    facts = CertificateFacts.from_certificate(trust_pki().ip.cert, now=NOW)
    assert facts.san_ip_addresses == (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
    assert facts.san_dns_names == ("192.0.2.7",)


def test_expired_certificate() -> None:
    facts = CertificateFacts.from_certificate(trust_pki().expired.cert, now=NOW)
    assert (facts.expired, facts.not_yet_valid, facts.days_left) == (True, False, -2)
    # One second past the end is already a day short.
    just_expired = CertificateFacts.from_certificate(trust_pki().expired.cert, now=NOW - 2 * DAY + 1 * SECOND)
    assert (just_expired.expired, just_expired.days_left) == (True, -1)


def test_certificate_not_yet_valid() -> None:
    facts = CertificateFacts.from_certificate(trust_pki().not_yet_valid.cert, now=NOW)
    assert (facts.expired, facts.not_yet_valid, facts.days_left) == (False, True, 10)


@pytest.mark.parametrize(
    ("cert_name", "key_type", "key_size", "curve", "weak"),
    [
        ("leaf", KeyType.EC, 256, "secp256r1", False),
        ("rsa_root", KeyType.RSA, 2048, None, False),
        ("rsa1024", KeyType.RSA, 1024, None, True),
        ("p192", KeyType.EC, 192, "secp192r1", True),
        ("dsa", KeyType.DSA, 1024, None, True),
        ("ed25519", KeyType.ED25519, 256, None, False),
    ],
)
def test_keys(cert_name: str, key_type: KeyType, key_size: int, curve: str | None, weak: bool) -> None:
    facts = CertificateFacts.from_certificate(getattr(trust_pki(), cert_name).cert, now=NOW)
    assert (facts.key_type, facts.key_size, facts.ec_curve, facts.weak_key) == (key_type, key_size, curve, weak)


@pytest.mark.parametrize(
    ("cert_name", "algorithm", "hash_name", "self_signed", "ca"),
    [
        ("rsa_root", "sha256WithRSAEncryption", "sha256", True, True),
        ("sha1_intermediate", "sha1WithRSAEncryption", "sha1", False, True),
        ("sha1_root", "sha1WithRSAEncryption", "sha1", True, True),
        ("ed25519_self_signed", "ED25519", None, True, False),
        ("self_signed", "ecdsa-with-SHA256", "sha256", True, False),
        ("root", "ecdsa-with-SHA256", "sha256", True, True),
    ],
)
def test_signatures(cert_name: str, algorithm: str, hash_name: str | None, self_signed: bool, ca: bool) -> None:
    facts = CertificateFacts.from_certificate(getattr(trust_pki(), cert_name).cert, now=NOW)
    assert (facts.signature_algorithm, facts.signature_hash) == (algorithm, hash_name)
    assert (facts.is_self_signed, facts.is_ca) == (self_signed, ca)


def _pin(cert: x509.Certificate) -> str:
    """The usual recipe: SHA-256 of the re-encoded public key (the facts read the certificate's own bytes)."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.mark.parametrize("cert_name", ["rsa_root", "ed25519", "dsa", "p192"])
def test_spki_pins(cert_name: str) -> None:
    cert = getattr(trust_pki(), cert_name).cert
    assert CertificateFacts.from_certificate(cert, now=NOW).spki_sha256 == _pin(cert)


def test_facts_of_every_mozilla_root() -> None:
    # Some have a serial number of zero, whose reading warns in cryptography: the facts stay quiet about it.
    certificates = mozilla_store().certificates
    facts = [CertificateFacts.from_certificate(cert, now=NOW) for cert in certificates]
    assert [fact.spki_sha256 for fact in facts] == [_pin(cert) for cert in certificates]
    assert all(fact.is_self_signed and fact.is_ca for fact in facts)  # SHA-1 self-signatures included
    assert any(fact.serial_number == "00" for fact in facts)
    assert {fact.key_type for fact in facts} <= {KeyType.RSA, KeyType.EC}


def _chain(*names: str) -> list[x509.Certificate]:
    pki = trust_pki()
    return [getattr(pki, name).cert for name in names]


def test_good_chain() -> None:
    facts = ChainFacts.from_chains(
        _chain("leaf", "intermediate"), _chain("leaf", "intermediate", "root"), now=NOW, anchors=_chain("root")
    )
    assert [fact.subject for fact in facts.received_chain] == ["CN=www.example.com", INTERMEDIATE]
    assert facts == ChainFacts(
        received_chain=facts.received_chain,
        received_in_valid_order=True,
        contains_anchor=False,
        incomplete=False,
        missing_issuer=None,
        sha1_in_verified_chain=False,
        sha1_signed=(),
        broken_hash_signed=(),
        weak_keys=(),
        any_expired=False,
        any_not_yet_valid=False,
    )


def test_chain_that_includes_its_root() -> None:
    facts = ChainFacts.from_chains(
        _chain("leaf", "intermediate", "root"), _chain("leaf", "intermediate", "root"), now=NOW
    )
    assert (facts.received_in_valid_order, facts.contains_anchor) == (True, True)


def test_chain_in_the_wrong_order() -> None:
    facts = ChainFacts.from_chains(
        _chain("leaf", "root", "intermediate"), _chain("leaf", "intermediate", "root"), now=NOW
    )
    assert (facts.received_in_valid_order, facts.contains_anchor, facts.incomplete) == (False, True, False)


def test_chain_with_an_unrelated_extra_certificate_is_not_in_order() -> None:
    facts = ChainFacts.from_chains(_chain("leaf", "intermediate", "rsa_root"), None, now=NOW, anchors=_chain("root"))
    assert (facts.received_in_valid_order, facts.incomplete) == (False, False)
    assert facts.contains_anchor  # rsa_root is self-signed, although not this chain's anchor


def test_chain_missing_its_intermediate() -> None:
    facts = ChainFacts.from_chains(_chain("leaf"), None, now=NOW, anchors=_chain("root"))
    assert (facts.received_in_valid_order, facts.incomplete, facts.missing_issuer) == (True, True, INTERMEDIATE)
    assert facts.sha1_in_verified_chain is None


def test_chain_to_a_root_no_store_has_looks_incomplete_too() -> None:
    # Without fetching, an unknown root and a missing intermediate cannot be told apart (see ChainFacts.incomplete).
    facts = ChainFacts.from_chains(_chain("leaf", "intermediate"), None, now=NOW, anchors=mozilla_store().certificates)
    assert (facts.incomplete, facts.missing_issuer) == (True, ROOT)


def test_complete_chain_that_failed_validation_for_another_reason() -> None:
    facts = ChainFacts.from_chains(_chain("expired", "intermediate"), None, now=NOW, anchors=_chain("root"))
    assert (facts.incomplete, facts.missing_issuer, facts.any_expired, facts.any_not_yet_valid) == (
        False,
        None,
        True,
        False,
    )


def test_not_yet_valid_leaf() -> None:
    facts = ChainFacts.from_chains(_chain("not_yet_valid", "intermediate"), None, now=NOW, anchors=_chain("root"))
    assert (facts.any_expired, facts.any_not_yet_valid) == (False, True)


def test_self_signed_leaf_alone() -> None:
    facts = ChainFacts.from_chains(_chain("self_signed"), None, now=NOW)
    assert (facts.received_in_valid_order, facts.contains_anchor, facts.incomplete) == (True, True, False)


def test_self_signed_leaf_trusted_by_a_ca_file() -> None:
    facts = ChainFacts.from_chains(_chain("self_signed"), _chain("self_signed"), now=NOW)
    assert (facts.contains_anchor, facts.incomplete, facts.sha1_in_verified_chain) == (True, False, False)


def test_sha1_signed_intermediate() -> None:
    # cryptography refuses the chain, but the facts still link it (the SHA-1 signature is checked directly).
    facts = ChainFacts.from_chains(_chain("under_sha1", "sha1_intermediate"), None, now=NOW, anchors=_chain("rsa_root"))
    assert (facts.received_in_valid_order, facts.incomplete) == (True, False)
    assert facts.sha1_signed == ("CN=sha1 intermediate",)
    assert facts.sha1_in_verified_chain is None


def test_sha1_in_a_verified_chain() -> None:
    # As another validator (one that still accepts SHA-1) would have verified it.
    chain = _chain("under_sha1", "sha1_intermediate", "rsa_root")
    assert ChainFacts.from_chains(chain[:2], chain, now=NOW).sha1_in_verified_chain is True


def test_sha1_signature_of_the_anchor_itself_does_not_count() -> None:
    chain = _chain("under_sha1_root", "sha1_root")
    facts = ChainFacts.from_chains(chain[:1], chain, now=NOW)
    assert (facts.sha1_in_verified_chain, facts.sha1_signed) == (False, ())


def test_weak_keys() -> None:
    facts = ChainFacts.from_chains(
        _chain("rsa1024", "intermediate"), _chain("rsa1024", "intermediate", "root"), now=NOW
    )
    assert facts.weak_keys == ("CN=rsa1024.example",)
    for weak in ("p192", "dsa"):
        assert ChainFacts.from_chains(_chain(weak, "intermediate"), None, now=NOW).weak_keys == (f"CN={weak}.example",)


def test_weak_keys_include_the_verified_chain_once() -> None:
    facts = ChainFacts.from_chains(_chain("p192"), _chain("p192", "intermediate", "root"), now=NOW)
    assert facts.weak_keys == ("CN=p192.example",)


def test_nothing_received() -> None:
    with pytest.raises(ValueError, match="no certificate was received"):
        ChainFacts.from_chains([], None, now=NOW)


def test_facts_as_json() -> None:
    pki = trust_pki()
    chain = ChainFacts.from_chains(_chain("ip", "intermediate"), _chain("ip", "intermediate", "root"), now=NOW)
    document = json.loads(json.dumps(to_jsonable(chain)))
    leaf = document["received_chain"][0]
    assert leaf["san_ip_addresses"] == ["127.0.0.1", "::1"]
    assert leaf["key_type"] == "ec"
    assert leaf["not_after"] == (NOW + 30 * DAY + datetime.timedelta(hours=1)).isoformat()
    assert x509.load_pem_x509_certificate(leaf["pem"].encode()) == pki.ip.cert
    assert document["incomplete"] is False
    assert document["weak_keys"] == []
    assert set(document) == {field.name for field in ChainFacts.__attrs_attrs__}


def test_facts_follow_the_generated_json_schema() -> None:
    schema = json_schema([ChainFacts, HostnameValidation])
    chain = ChainFacts.from_chains(_chain("leaf"), None, now=NOW, anchors=_chain("root"))
    for name, value in (
        ("ChainFacts", chain),
        ("HostnameValidation", match_hostname(trust_pki().ip.cert, "::1")),
    ):
        document = json.loads(json.dumps(to_jsonable(value)))
        jsonschema.validate(document, {"$defs": schema["$defs"], "$ref": f"#/$defs/{name}"})
