"""A weak or uncheckable signature algorithm must not make a chain's structure look broken (issue 22).

A leaf signed with MD5 by the intermediate sent right after it is in order and complete; the MD5 signature is its
own finding, and path validation still refuses the chain. The structure is judged from names and keys: the
issuer's key verifies the signature whatever its hash, and when the signature cannot be checked at all (MD2, an
unknown algorithm) the authority and subject key identifiers decide.
"""

from __future__ import annotations

import functools
from pathlib import Path

import attrs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.scanning import only_result
from tests.trust import NOW, SIGNATURE_OIDS, Issued, issue, pem, resign, write_server_files
from tlsprobe import ServerScanResult, scan_server
from tlsprobe.checks import CertificateCheck, CertificateResult
from tlsprobe.testing import LocalTLSServer
from tlsprobe.trust import ChainFacts, TrustStoreName, load_ca_file, validate_chain

NAME = "www.example.com"
LEAF = "CN=www.example.com"
INTERMEDIATE = "CN=weak signature test intermediate"


@attrs.frozen(kw_only=True)
class WeakPKI:
    """An EC root, an RSA intermediate, and EC leaves [www.example.com] it signs with various algorithms."""

    root: Issued
    intermediate: Issued
    leaves: dict[str, Issued]
    """By signature algorithm: ``sha256``, ``md5``, ``sha1``, ``md2``, ``unknown``."""
    impostor_md2: Issued
    """A leaf whose issuer *name* is the intermediate's, issued by another key (its authorityKeyIdentifier says so),
    relabelled MD2 so that its signature cannot be checked."""
    forged_md5: Issued
    """A leaf naming the intermediate as issuer, MD5-signed by another key: a signature that does not verify."""
    md5_intermediate: Issued
    """An intermediate (CN=md5 intermediate) that ``md5_root`` signs with MD5."""
    md5_root: Issued
    """A self-signed RSA root whose own signature is MD5."""


@functools.cache
def weak_pki() -> WeakPKI:
    """Built once per session: two RSA-2048 keys, the rest P-256."""
    p256 = ec.SECP256R1()
    root = issue("weak signature test root", key=ec.generate_private_key(p256), ca=True)
    intermediate_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    intermediate = issue("weak signature test intermediate", key=intermediate_key, issuer=root, ca=True)

    def leaf(signer: Issued, signer_key: rsa.RSAPrivateKey, algorithm: str) -> Issued:
        issued = issue(NAME, key=ec.generate_private_key(p256), issuer=signer, sans=(NAME,))
        return issued if algorithm == "sha256" else Issued(resign(issued.cert, signer_key, algorithm), issued.key)

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # one key for both: RSA is slow
    impostor = Issued(intermediate.cert, other_key)  # the intermediate's name, another key
    md5_root = Issued(
        resign(issue("weak signature md5 root", key=other_key, ca=True).cert, other_key, "md5"), other_key
    )
    md5_intermediate_sha256 = issue("md5 intermediate", key=ec.generate_private_key(p256), issuer=md5_root, ca=True)
    return WeakPKI(
        root=root,
        intermediate=intermediate,
        leaves={algorithm: leaf(intermediate, intermediate_key, algorithm) for algorithm in SIGNATURE_OIDS},
        impostor_md2=leaf(impostor, other_key, "md2"),
        forged_md5=leaf(impostor, other_key, "md5"),
        md5_intermediate=Issued(resign(md5_intermediate_sha256.cert, other_key, "md5"), md5_intermediate_sha256.key),
        md5_root=md5_root,
    )


def _facts(*chain: x509.Certificate, anchor: x509.Certificate | None = None) -> ChainFacts:
    return ChainFacts.from_chains(list(chain), None, now=NOW, anchors=[anchor or weak_pki().root.cert])


# --- the chain's structure, judged alone --------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "md2", "unknown"])
def test_a_weak_or_uncheckable_leaf_signature_leaves_the_chain_in_order_and_complete(algorithm: str) -> None:
    pki = weak_pki()
    facts = _facts(pki.leaves[algorithm].cert, pki.intermediate.cert)
    assert (facts.received_in_valid_order, facts.incomplete, facts.missing_issuer) == (True, False, None)
    assert facts.broken_hash_signed == ((LEAF,) if algorithm in ("md5", "md2") else ())
    assert facts.sha1_signed == ((LEAF,) if algorithm == "sha1" else ())


def test_the_sha256_leaf_is_clean() -> None:
    pki = weak_pki()
    facts = _facts(pki.leaves["sha256"].cert, pki.intermediate.cert)
    assert (facts.received_in_valid_order, facts.incomplete) == (True, False)
    assert (facts.broken_hash_signed, facts.sha1_signed) == ((), ())


def test_an_md5_signature_is_still_verified_not_taken_on_trust() -> None:
    # The intermediate's name, but another key's MD5 signature: not issued by the intermediate, so the issuer is
    # missing (the names alone would have linked them).
    pki = weak_pki()
    facts = _facts(pki.forged_md5.cert, pki.intermediate.cert)
    assert (facts.received_in_valid_order, facts.incomplete, facts.missing_issuer) == (False, True, INTERMEDIATE)
    assert facts.broken_hash_signed == (LEAF,)


def test_an_uncheckable_signature_falls_back_on_the_key_identifiers() -> None:
    # MD2 cannot be verified here; the leaf's authorityKeyIdentifier names another key than the intermediate's.
    pki = weak_pki()
    facts = _facts(pki.impostor_md2.cert, pki.intermediate.cert)
    assert (facts.received_in_valid_order, facts.incomplete, facts.missing_issuer) == (False, True, INTERMEDIATE)


def test_md5_signatures_above_the_leaf_and_the_roots_own() -> None:
    # The intermediate's MD5 signature counts; the self-signed root's own MD5 signature is nobody's business.
    pki = weak_pki()
    leaf = issue("under md5", key=ec.generate_private_key(ec.SECP256R1()), issuer=pki.md5_intermediate)
    facts = _facts(leaf.cert, pki.md5_intermediate.cert, pki.md5_root.cert, anchor=pki.md5_root.cert)
    assert (facts.received_in_valid_order, facts.incomplete, facts.contains_anchor) == (True, False, True)
    assert facts.broken_hash_signed == ("CN=md5 intermediate",)
    assert facts.received_chain[2].is_self_signed
    assert facts.received_chain[2].signature_algorithm == "md5WithRSAEncryption"


@pytest.mark.parametrize(
    ("algorithm", "name", "hash_name"),
    [
        ("md5", "md5WithRSAEncryption", "md5"),
        ("md2", "md2WithRSAEncryption", None),
        ("unknown", "1.2.840.113549.1.1.99", None),
    ],
)
def test_the_leaf_facts_name_the_algorithm(algorithm: str, name: str, hash_name: str | None) -> None:
    facts = _facts(weak_pki().leaves[algorithm].cert, weak_pki().intermediate.cert).received_chain[0]
    assert (facts.signature_algorithm, facts.signature_hash) == (name, hash_name)


# --- path validation still refuses it ------------------------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "name"), [("md5", "md5WithRSAEncryption"), ("sha1", "sha1WithRSAEncryption")])
def test_path_validation_refuses_the_weak_leaf_and_says_why(tmp_path: Path, algorithm: str, name: str) -> None:
    pki = weak_pki()
    (tmp_path / "root.pem").write_bytes(pem(pki.root.cert))
    store = load_ca_file(tmp_path / "root.pem")
    result = validate_chain([pki.leaves[algorithm].cert, pki.intermediate.cert], store, at=NOW)
    assert not result.trusted
    assert str(result.error).startswith(
        f"a signature algorithm the Web PKI forbids: '{LEAF}' is signed with {name}; cryptography: "
    )
    assert validate_chain([pki.leaves["sha256"].cert, pki.intermediate.cert], store, at=NOW).trusted


# --- a real server -------------------------------------------------------------------------------------------------


async def _scan_server_serving(tmp_path: Path, algorithm: str) -> ServerScanResult:
    """Scan a Python ``ssl`` server sending the ``algorithm`` leaf and the intermediate, trusting the root."""
    pki = weak_pki()
    (tmp_path / "root.pem").write_bytes(pem(pki.root.cert))
    certfile, keyfile = write_server_files(tmp_path, algorithm, pki.leaves[algorithm], pki.intermediate.cert)
    # OpenSSL refuses to load MD5- and SHA-1-signed certificates above security level 0.
    with LocalTLSServer(certfile=certfile, keyfile=keyfile, ciphers="DEFAULT:@SECLEVEL=0") as server:
        return await scan_server(
            f"{NAME}:{server.port}{{127.0.0.1}}", [CertificateCheck(ca_file=tmp_path / "root.pem")]
        )


@pytest.mark.anyio
@pytest.mark.realserver
@pytest.mark.parametrize(
    ("algorithm", "finding_id", "evidence"),
    [
        ("md5", "certificate_weak_signature", (f"{LEAF}: signed with md5WithRSAEncryption",)),
        ("sha1", "certificate_sha1", (LEAF,)),
    ],
)
async def test_a_server_sending_a_weakly_signed_leaf_and_its_intermediate(
    tmp_path: Path, algorithm: str, finding_id: str, evidence: tuple[str, ...]
) -> None:
    result = await _scan_server_serving(tmp_path, algorithm)
    (deployment,) = only_result(result, CertificateResult).deployments
    chain = deployment.chain
    assert [facts.subject for facts in chain.received_chain] == [LEAF, INTERMEDIATE]
    assert chain.received_in_valid_order
    assert (chain.incomplete, chain.missing_issuer) == (False, None)
    assert not deployment.trusted
    ca_file = next(verdict for verdict in deployment.trust if verdict.store is TrustStoreName.CA_FILE)
    assert str(ca_file.error).startswith("a signature algorithm the Web PKI forbids: ")
    findings = {finding.id: finding for finding in result.findings}
    assert set(findings) == {"certificate_untrusted", finding_id}
    assert findings[finding_id].evidence == evidence


@pytest.mark.anyio
@pytest.mark.realserver
async def test_the_same_server_with_a_sha256_leaf_has_no_such_findings(tmp_path: Path) -> None:
    result = await _scan_server_serving(tmp_path, "sha256")
    (deployment,) = only_result(result, CertificateResult).deployments
    assert deployment.chain.received_in_valid_order and not deployment.chain.incomplete
    assert deployment.trusted
    assert result.findings == ()
