"""Path validation against trust stores, and host name matching, as two separate verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from tests.trust import DAY, NOW, issue, pem, trust_pki
from tlsprobe._model._json import to_jsonable
from tlsprobe.trust import (
    HostnameValidation,
    PathValidation,
    TrustStore,
    TrustStoreName,
    load_ca_file,
    match_hostname,
    mozilla_store,
    validate_chain,
)

EXHAUSTED = "validation failed: candidates exhausted: all candidates exhausted with no interior errors"
LEAF_ISSUED_BY_INTERMEDIATE = "'CN=www.example.com', issued by 'CN=tlsprobe trust test intermediate'"
INTERMEDIATE_ISSUED_BY_ROOT = "'CN=tlsprobe trust test intermediate', issued by 'CN=tlsprobe trust test root'"


def no_path(store: str, ending: str, cryptography: str = EXHAUSTED) -> str:
    """The error of a chain that never reaches ``store``: where the received chain ends, then cryptography's text."""
    return (
        f"no path from the leaf to a root of the {store} store: the chain received ends at {ending}, which is not "
        f"one of its roots (an unknown root, or a missing intermediate); cryptography: {cryptography}"
    )


@pytest.fixture(scope="module")
def test_store(tmp_path_factory: pytest.TempPathFactory) -> TrustStore:
    """The test root as a user's CA file."""
    path: Path = tmp_path_factory.mktemp("ca") / "root.pem"
    path.write_bytes(pem(trust_pki().root.cert))
    return load_ca_file(path)


def test_valid_chain(test_store: TrustStore) -> None:
    pki = trust_pki()
    result = validate_chain([pki.leaf.cert, pki.intermediate.cert], test_store, at=NOW)
    assert result == PathValidation(
        store_name=TrustStoreName.CA_FILE,
        store_version=None,
        verified_chain=(pki.leaf.cert, pki.intermediate.cert, pki.root.cert),
        error=None,
    )
    assert result.trusted


def test_a_wrong_name_does_not_fail_path_validation(test_store: TrustStore) -> None:
    pki = trust_pki()
    # The chain is valid whatever name the client wanted: only match_hostname says it is the wrong one.
    assert validate_chain([pki.cn_only_match.cert, pki.intermediate.cert], test_store, at=NOW).trusted
    assert not match_hostname(pki.cn_only_match.cert, "www.example.com").matched


def test_chain_in_the_wrong_order_with_the_root_still_validates(test_store: TrustStore) -> None:
    pki = trust_pki()
    result = validate_chain([pki.leaf.cert, pki.root.cert, pki.intermediate.cert], test_store, at=NOW)
    assert result.verified_chain == (pki.leaf.cert, pki.intermediate.cert, pki.root.cert)


def test_chain_missing_its_intermediate(test_store: TrustStore) -> None:
    result = validate_chain([trust_pki().leaf.cert], test_store, at=NOW)
    assert result.verified_chain is None
    assert result.error == no_path("ca_file", LEAF_ISSUED_BY_INTERMEDIATE)
    assert not result.trusted


def test_chain_sent_with_its_own_root_against_the_mozilla_store() -> None:
    # A self-signed root sent along is tried as an intermediate: cryptography then blames a path length.
    pki = trust_pki()
    result = validate_chain([pki.leaf.cert, pki.intermediate.cert, pki.root.cert], mozilla_store(), at=NOW)
    assert result.error is not None
    assert result.error.startswith(
        no_path("mozilla", "the self-signed 'CN=tlsprobe trust test root'", cryptography="validation failed: ")
    )


def test_test_chain_against_the_mozilla_store() -> None:
    pki = trust_pki()
    result = validate_chain([pki.leaf.cert, pki.intermediate.cert], mozilla_store(), at=NOW)
    assert result == PathValidation(
        store_name=TrustStoreName.MOZILLA,
        store_version=mozilla_store().version,
        verified_chain=None,
        error=no_path("mozilla", INTERMEDIATE_ISSUED_BY_ROOT),
    )


def test_expired_leaf(test_store: TrustStore) -> None:
    result = validate_chain([trust_pki().expired.cert, trust_pki().intermediate.cert], test_store, at=NOW)
    assert result.error == (
        "validation failed: cert is not valid at validation time "
        "(encountered processing <Certificate(subject=<Name(CN=expired.example)>, ...)>)"
    )


def test_leaf_not_yet_valid(test_store: TrustStore) -> None:
    result = validate_chain([trust_pki().not_yet_valid.cert, trust_pki().intermediate.cert], test_store, at=NOW)
    assert result.error == (
        "validation failed: cert is not valid at validation time "
        "(encountered processing <Certificate(subject=<Name(CN=future.example)>, ...)>)"
    )


def test_the_validation_time_is_the_one_given(test_store: TrustStore) -> None:
    chain = [trust_pki().not_yet_valid.cert, trust_pki().intermediate.cert]
    assert validate_chain(chain, test_store, at=NOW + 3 * DAY).trusted
    # A naive time is taken as UTC.
    assert validate_chain(chain, test_store, at=(NOW + 3 * DAY).replace(tzinfo=None)).trusted


def test_self_signed_leaf(tmp_path: Path, test_store: TrustStore) -> None:
    leaf = trust_pki().self_signed.cert
    assert validate_chain([leaf], test_store, at=NOW).error == no_path("ca_file", "the self-signed 'CN=self.example'")
    own = tmp_path / "self.pem"
    own.write_bytes(pem(leaf))
    assert validate_chain([leaf], load_ca_file(own), at=NOW).verified_chain == (leaf,)


def test_leaf_whose_extended_key_usage_excludes_server_auth(test_store: TrustStore) -> None:
    result = validate_chain([trust_pki().client_only.cert, trust_pki().intermediate.cert], test_store, at=NOW)
    assert result.error == (
        "validation failed: Python extension validator failed: ValueError: extendedKeyUsage does not allow "
        "serverAuth (encountered processing <Certificate(subject=<Name(CN=client.example)>, ...)>)"
    )


def test_intermediate_whose_extended_key_usage_excludes_server_auth(test_store: TrustStore) -> None:
    pki = trust_pki()
    result = validate_chain([pki.under_client_intermediate.cert, pki.client_intermediate.cert], test_store, at=NOW)
    assert result.error == (
        "validation failed: candidates exhausted: Python extension validator failed: ValueError: "
        "extendedKeyUsage does not allow serverAuth"
    )


def test_leaf_without_subject_alt_name_passes_path_validation(test_store: TrustStore) -> None:
    pki = trust_pki()
    assert validate_chain([pki.no_san.cert, pki.intermediate.cert], test_store, at=NOW).trusted


@pytest.mark.parametrize(
    ("subject", "critical", "error"),
    [
        (x509.Name([]), True, None),
        (None, False, None),
        (x509.Name([]), False, "subjectAltName must be critical exactly when the subject is empty"),
        (None, True, "subjectAltName must be critical exactly when the subject is empty"),
    ],
)
def test_criticality_of_the_subject_alt_name(
    test_store: TrustStore, subject: x509.Name | None, critical: bool, error: str | None
) -> None:
    # The server profile's rule (RFC 5280 4.2.1.6), kept although the name itself is not checked here.
    pki = trust_pki()
    leaf = issue(
        "san.example",
        key=ec.generate_private_key(ec.SECP256R1()),
        issuer=pki.intermediate,
        sans=("san.example",),
        subject=subject,
        san_critical=critical,
    ).cert
    result = validate_chain([leaf, pki.intermediate.cert], test_store, at=NOW)
    if error is None:
        assert result.trusted
    else:
        assert result.error is not None
        assert f"Python extension validator failed: ValueError: {error} (encountered processing" in result.error


@pytest.mark.parametrize("leaf_name", ["ip", "wildcard", "idn", "rsa1024", "p192", "ed25519"])
def test_leaves_that_validate(test_store: TrustStore, leaf_name: str) -> None:
    # cryptography's Web PKI policy checks the key size of issuers, not of the leaf: weak leaf keys are
    # reported by ChainFacts.weak_keys instead.
    pki = trust_pki()
    leaf = getattr(pki, leaf_name).cert
    result = validate_chain([leaf, pki.intermediate.cert], test_store, at=NOW)
    assert result.verified_chain == (leaf, pki.intermediate.cert, pki.root.cert)


def test_sha1_signed_intermediate_is_refused(tmp_path: Path) -> None:
    pki = trust_pki()
    path = tmp_path / "rsa-root.pem"
    path.write_bytes(pem(pki.rsa_root.cert))
    result = validate_chain([pki.under_sha1.cert, pki.sha1_intermediate.cert], load_ca_file(path), at=NOW)
    assert result.error is not None
    assert result.error.startswith(
        "a signature algorithm the Web PKI forbids: 'CN=sha1 intermediate' is signed with sha1WithRSAEncryption; "
        "cryptography: validation failed: candidates exhausted: Forbidden signature algorithm: "
    )
    assert "RsaWithSha1" in result.error


def test_no_certificate_received(test_store: TrustStore) -> None:
    assert validate_chain([], test_store, at=NOW).error == "no certificate was received"


def test_verified_chain_facts(test_store: TrustStore) -> None:
    pki = trust_pki()
    result = validate_chain([pki.leaf.cert, pki.intermediate.cert], test_store, at=NOW)
    facts = result.verified_chain_facts(now=NOW)
    assert facts is not None
    assert [fact.subject for fact in facts] == [
        "CN=www.example.com",
        "CN=tlsprobe trust test intermediate",
        "CN=tlsprobe trust test root",
    ]
    assert x509.load_pem_x509_certificate(facts[-1].pem.encode()) == pki.root.cert
    assert validate_chain([pki.leaf.cert], test_store, at=NOW).verified_chain_facts(now=NOW) is None


def test_failed_path_validation_as_json(test_store: TrustStore) -> None:
    result = validate_chain([trust_pki().leaf.cert], test_store, at=NOW)
    assert json.loads(json.dumps(to_jsonable(result))) == {
        "store_name": "ca_file",
        "store_version": None,
        "verified_chain": None,
        "error": no_path("ca_file", LEAF_ISSUED_BY_INTERMEDIATE),
    }


def test_successful_path_validation_as_json(test_store: TrustStore) -> None:
    pki = trust_pki()
    result = validate_chain([pki.leaf.cert, pki.intermediate.cert], test_store, at=NOW)
    assert len(to_jsonable(result)["verified_chain"]) == 3


def _match(leaf_name: str, name: str) -> HostnameValidation:
    return match_hostname(getattr(trust_pki(), leaf_name).cert, name)


@pytest.mark.parametrize(
    ("leaf_name", "name", "compared_as", "entry"),
    [
        ("leaf", "www.example.com", "www.example.com", "www.example.com"),
        ("leaf", "example.com", "example.com", "example.com"),
        ("leaf", "WWW.Example.COM.", "www.example.com", "www.example.com"),
        ("wildcard", "www.example.com", "www.example.com", "*.example.com"),
        ("wildcard", "Mail.Example.Com", "mail.example.com", "*.example.com"),
        ("wildcard", "example.com", "example.com", "example.com"),
        ("idn", "shop.bücher.example", "shop.xn--bcher-kva.example", "*.xn--bcher-kva.example"),
        ("idn", "SHOP.xn--bcher-kva.example.", "shop.xn--bcher-kva.example", "*.xn--bcher-kva.example"),
        ("ip", "127.0.0.1", "127.0.0.1", "127.0.0.1"),
        ("ip", "::1", "::1", "::1"),
        ("ip", "[::1]", "::1", "::1"),
        ("ip", "0:0:0::1", "::1", "::1"),
    ],
)
def test_names_that_match(leaf_name: str, name: str, compared_as: str, entry: str) -> None:
    assert _match(leaf_name, name) == HostnameValidation(
        name=name, compared_as=compared_as, matched=True, matched_entry=entry, mismatch_reason=None
    )


NO_DNS_ENTRY = "no dNSName entry of the subjectAltName matches this name"
NO_IP_ENTRY = "no iPAddress entry of the subjectAltName is this address"


@pytest.mark.parametrize(
    ("leaf_name", "name", "compared_as", "reason"),
    [
        ("leaf", "mail.example.com", "mail.example.com", NO_DNS_ENTRY),
        ("wildcard", "a.b.example.com", "a.b.example.com", NO_DNS_ENTRY),  # one label only
        ("wildcard", "example.org", "example.org", NO_DNS_ENTRY),
        ("odd_wildcards", "www.example.com", "www.example.com", NO_DNS_ENTRY),  # w*.example.com: partial label
        ("odd_wildcards", "example.com", "example.com", NO_DNS_ENTRY),  # *.com: over a single label
        ("odd_wildcards", "a.b.example.org", "a.b.example.org", NO_DNS_ENTRY),  # *.*.example.org
        ("odd_wildcards", "www.a.example.net", "www.a.example.net", NO_DNS_ENTRY),  # www.*.example.net
        ("idn", "bücher.example", "xn--bcher-kva.example", NO_DNS_ENTRY),
        ("ip", "127.0.0.2", "127.0.0.2", NO_IP_ENTRY),
        ("ip", "192.0.2.7", "192.0.2.7", NO_IP_ENTRY),  # only in a dNSName entry: not an address match
        ("ip", "localhost", "localhost", NO_DNS_ENTRY),
        ("cn_only_match", "www.example.com", "www.example.com", NO_DNS_ENTRY),  # the CN is never used
        ("no_san", "www.example.com", "www.example.com", "the certificate has no subjectAltName extension"),
    ],
)
def test_names_that_do_not_match(leaf_name: str, name: str, compared_as: str, reason: str) -> None:
    assert _match(leaf_name, name) == HostnameValidation(
        name=name, compared_as=compared_as, matched=False, matched_entry=None, mismatch_reason=reason
    )


@pytest.mark.parametrize("name", ["", "exa mple.com", "*.example.com", "a..example.com", "-a.example.com"])
def test_invalid_names(name: str) -> None:
    assert _match("wildcard", name) == HostnameValidation(
        name=name,
        compared_as=None,
        matched=False,
        matched_entry=None,
        mismatch_reason=f"{name!r} is neither a valid DNS name nor an IP address",
    )


def test_hostname_validation_as_json() -> None:
    assert to_jsonable(_match("wildcard", "www.example.com")) == {
        "name": "www.example.com",
        "compared_as": "www.example.com",
        "matched": True,
        "matched_entry": "*.example.com",
        "mismatch_reason": None,
    }
