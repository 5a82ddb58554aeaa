"""The certificate check on real servers (Python ssl, openssl s_server) serving chains the tests build."""

from __future__ import annotations

import base64
import datetime
import ssl
import struct
import textwrap
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp

from tests.scanning import only_result
from tests.servers.processes import start_openssl_s_server
from tests.trust import NOW, Issued, issue, ocsp_response_der, pem, trust_pki, write_server_files
from tests.trust.test_sct import LOG_A, LOG_B, der_octet_string, sct_list, serialized_sct
from tlsprobe import ConfigurationError, MalformedServerResponseError, scan_server
from tlsprobe.checks import CertificateCheck, CertificateResult, CertificateRetrieval, OfferedKeyType, WithoutSNI
from tlsprobe.checks._certificate_retrieval import RetrievedChain
from tlsprobe.checks.certificate import analyse_deployment, group_by_leaf
from tlsprobe.testing import LocalTLSServer
from tlsprobe.trust import KeyType, OCSPCertStatus, SCTSource, TrustStoreName, mozilla_store
from tlsprobe.trust._sct import SCT_LIST_CERTIFICATE_EXTENSION_OID
from tlsprobe.wire._versions import TLSVersion

pytestmark = [pytest.mark.anyio, pytest.mark.realserver]

NAME = "www.example.com"  # a name of trust_pki().leaf; targets pin it to 127.0.0.1


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory: Path = tmp_path_factory.mktemp("certificate-check")
    (directory / "root.pem").write_bytes(pem(trust_pki().root.cert))
    # s_server reads only the leaf from -cert; the rest of the chain comes from -cert_chain.
    (directory / "intermediate.pem").write_bytes(pem(trust_pki().intermediate.cert))
    return directory


@pytest.fixture(scope="module")
def ca_check(pki_dir: Path) -> CertificateCheck:
    """The check, trusting the test root through a CA file."""
    return CertificateCheck(ca_file=pki_dir / "root.pem")


def _server(pki_dir: Path, stem: str, leaf: Issued, *chain: x509.Certificate, **options: object) -> LocalTLSServer:
    certfile, keyfile = write_server_files(pki_dir, stem, leaf, *chain)
    return LocalTLSServer(certfile=certfile, keyfile=keyfile, **options)  # type: ignore[arg-type]


async def _scan(target: str, check: CertificateCheck) -> CertificateResult:
    result = await scan_server(target, [check])
    return only_result(result, CertificateResult)


def _verdicts(result: CertificateResult, index: int = 0) -> dict[TrustStoreName, str | None]:
    return {verdict.store: verdict.error for verdict in result.deployments[index].trust}


# --- trust, names, chains ------------------------------------------------------------------------------------------


async def test_valid_chain_trusted_by_the_ca_file_only(pki_dir: Path, ca_check: CertificateCheck) -> None:
    pki = trust_pki()
    with _server(pki_dir, "valid", pki.leaf, pki.intermediate.cert) as server:
        result = await _scan(f"{NAME}:{server.port}{{127.0.0.1}}", ca_check)
    (deployment,) = result.deployments
    assert result.hostname == NAME
    assert deployment.leaf.subject == "CN=www.example.com"
    verdicts = _verdicts(result)
    assert verdicts[TrustStoreName.CA_FILE] is None
    assert verdicts[TrustStoreName.MOZILLA] == (
        "no path from the leaf to a root of the mozilla store: the chain received ends at "
        "'CN=tlsprobe trust test intermediate', issued by 'CN=tlsprobe trust test root', which is not one of its "
        "roots (an unknown root, or a missing intermediate); cryptography: validation failed: candidates exhausted: "
        "all candidates exhausted with no interior errors"
    )
    (ca_file,) = [verdict for verdict in deployment.trust if verdict.store is TrustStoreName.CA_FILE]
    assert ca_file.verified_chain is not None
    assert [facts.subject for facts in ca_file.verified_chain] == [
        "CN=www.example.com",
        "CN=tlsprobe trust test intermediate",
        "CN=tlsprobe trust test root",
    ]
    assert deployment.hostname.matched and deployment.hostname.matched_entry == NAME
    assert deployment.chain.received_in_valid_order and not deployment.chain.contains_anchor
    assert not deployment.chain.incomplete
    assert deployment.leaf.key_type is KeyType.EC and deployment.leaf.ec_curve == "secp256r1"
    assert deployment.leaf.sha256_fingerprint == pki.leaf.cert.fingerprint(hashes.SHA256()).hex()
    assert not deployment.ev.is_ev
    # The default deployment (no SNI) is the same leaf.
    assert result.without_sni is WithoutSNI.SAME_CERTIFICATE
    assert {(r.version, r.server_name) for r in deployment.retrievals} >= {
        (TLSVersion.TLS1_2, NAME),
        (TLSVersion.TLS1_3, NAME),
    }


async def test_without_a_ca_file_nothing_trusts_the_test_chain(pki_dir: Path) -> None:
    pki = trust_pki()
    with _server(pki_dir, "valid", pki.leaf, pki.intermediate.cert) as server:
        result = await _scan(f"{NAME}:{server.port}{{127.0.0.1}}", CertificateCheck())
    assert TrustStoreName.CA_FILE not in _verdicts(result)
    assert not result.deployments[0].trusted
    # Without any store that has the root, the chain looks incomplete: the issuer of its top is missing.
    assert result.deployments[0].chain.incomplete
    assert result.deployments[0].chain.missing_issuer == "CN=tlsprobe trust test root"


async def test_wrong_host_name(pki_dir: Path, ca_check: CertificateCheck) -> None:
    pki = trust_pki()
    with _server(pki_dir, "valid", pki.leaf, pki.intermediate.cert) as server:
        result = await _scan(f"other.example.net:{server.port}{{127.0.0.1}}", ca_check)
    hostname = result.deployments[0].hostname
    assert (hostname.name, hostname.matched) == ("other.example.net", False)
    assert hostname.mismatch_reason == "no dNSName entry of the subjectAltName matches this name"
    assert result.deployments[0].trusted  # path validation is a separate verdict


async def test_ip_target_sends_no_sni_and_matches_ip_addresses(pki_dir: Path, ca_check: CertificateCheck) -> None:
    pki = trust_pki()
    names_seen: list[str | None] = []
    with _server(pki_dir, "ip", pki.ip, pki.intermediate.cert) as server:
        server.context.sni_callback = lambda _socket, name, _context: names_seen.append(name)  # type: ignore[func-returns-value]
        result = await _scan(f"127.0.0.1:{server.port}", ca_check)
    assert names_seen and set(names_seen) == {None}
    assert result.without_sni is WithoutSNI.NOT_TESTED
    assert result.hostname == "127.0.0.1"
    assert result.deployments[0].hostname.matched_entry == "127.0.0.1"
    assert all(retrieval.server_name is None for retrieval in result.deployments[0].retrievals)


@pytest.mark.parametrize(
    ("leaf_name", "target_name", "expected_error_start"),
    [
        ("expired", "expired.example", "validation failed: cert is not valid at validation time"),
        ("not_yet_valid", "future.example", "validation failed: cert is not valid at validation time"),
    ],
)
async def test_expired_and_not_yet_valid(
    pki_dir: Path, ca_check: CertificateCheck, leaf_name: str, target_name: str, expected_error_start: str
) -> None:
    pki = trust_pki()
    leaf: Issued = getattr(pki, leaf_name)
    with _server(pki_dir, leaf_name, leaf, pki.intermediate.cert) as server:
        result = await _scan(f"{target_name}:{server.port}{{127.0.0.1}}", ca_check)
    deployment = result.deployments[0]
    assert str(_verdicts(result)[TrustStoreName.CA_FILE]).startswith(expected_error_start)
    assert deployment.leaf.expired is (leaf_name == "expired")
    assert deployment.leaf.not_yet_valid is (leaf_name == "not_yet_valid")
    assert deployment.chain.any_expired is (leaf_name == "expired")
    assert deployment.hostname.matched


async def test_self_signed_leaf(pki_dir: Path, ca_check: CertificateCheck) -> None:
    with _server(pki_dir, "self", trust_pki().self_signed) as server:
        result = await _scan(f"self.example:{server.port}{{127.0.0.1}}", ca_check)
    deployment = result.deployments[0]
    assert deployment.leaf.is_self_signed and deployment.chain.contains_anchor
    assert not deployment.trusted
    assert _verdicts(result)[TrustStoreName.CA_FILE] == (
        "no path from the leaf to a root of the ca_file store: the chain received ends at the self-signed "
        "'CN=self.example', which is not one of its roots (an unknown root, or a missing intermediate); "
        "cryptography: validation failed: candidates exhausted: all candidates exhausted with no interior errors"
    )


async def test_missing_intermediate(pki_dir: Path, ca_check: CertificateCheck) -> None:
    with _server(pki_dir, "leaf-only", trust_pki().leaf) as server:
        result = await _scan(f"{NAME}:{server.port}{{127.0.0.1}}", ca_check)
    chain = result.deployments[0].chain
    assert len(chain.received_chain) == 1
    assert chain.incomplete and chain.missing_issuer == "CN=tlsprobe trust test intermediate"
    assert not result.deployments[0].trusted


async def test_chain_in_the_wrong_order(pki_dir: Path, ca_check: CertificateCheck) -> None:
    pki = trust_pki()
    # Sent as leaf, root, intermediate: the root is out of place (and an anchor that need not be sent).
    with _server(pki_dir, "disordered", pki.leaf, pki.root.cert, pki.intermediate.cert) as server:
        result = await _scan(f"{NAME}:{server.port}{{127.0.0.1}}", ca_check)
    chain = result.deployments[0].chain
    assert [facts.subject for facts in chain.received_chain] == [
        "CN=www.example.com",
        "CN=tlsprobe trust test root",
        "CN=tlsprobe trust test intermediate",
    ]
    assert not chain.received_in_valid_order
    assert chain.contains_anchor
    assert result.deployments[0].trusted  # validators reorder; the order is reported, not fatal


async def test_weak_rsa_key_is_reported(pki_dir: Path, ca_check: CertificateCheck) -> None:
    pki = trust_pki()
    with _server(pki_dir, "rsa1024", pki.rsa1024, pki.intermediate.cert, ciphers="ALL:@SECLEVEL=0") as server:
        result = await _scan(f"rsa1024.example:{server.port}{{127.0.0.1}}", ca_check)
    deployment = result.deployments[0]
    assert (deployment.leaf.key_type, deployment.leaf.key_size, deployment.leaf.weak_key) == (KeyType.RSA, 1024, True)
    assert deployment.chain.weak_keys == ("CN=rsa1024.example",)


# --- several certificates ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_leaf() -> Issued:
    pki = trust_pki()
    return issue(NAME, key=rsa.generate_private_key(public_exponent=65537, key_size=2048), issuer=pki.intermediate,
                 sans=(NAME,))  # fmt: skip


async def test_rsa_and_ecdsa_certificates_on_one_python_server(
    pki_dir: Path, ca_check: CertificateCheck, rsa_leaf: Issued
) -> None:
    pki = trust_pki()
    with _server(pki_dir, "dual-ec", pki.leaf, pki.intermediate.cert) as server:
        server.context.load_cert_chain(*write_server_files(pki_dir, "dual-rsa", rsa_leaf, pki.intermediate.cert))
        scanned = await scan_server(f"127.0.0.1:{server.port}", [ca_check])
    result = only_result(scanned, CertificateResult)
    key_types = {deployment.leaf.key_type for deployment in result.deployments}
    assert key_types == {KeyType.RSA, KeyType.EC}
    for deployment in result.deployments:
        assert {retrieval.version for retrieval in deployment.retrievals} == {TLSVersion.TLS1_2, TLSVersion.TLS1_3}
        assert deployment.trusted
    (rsa_deployment,) = [d for d in result.deployments if d.leaf.key_type is KeyType.RSA]
    assert OfferedKeyType.RSA in {retrieval.offered_key_type for retrieval in rsa_deployment.retrievals}
    # An IP target: the shared TLS 1.2 hello, the other key type below TLS 1.3, and one TLS 1.3 flight for the
    # other key type (the first TLS 1.3 chain is the connectivity phase's decrypted flight).
    assert scanned.checks[0].cost.connections == 3


async def test_rsa_and_ecdsa_certificates_on_openssl_s_server(
    pki_dir: Path, ca_check: CertificateCheck, rsa_leaf: Issued
) -> None:
    pki = trust_pki()
    rsa_cert, rsa_key = write_server_files(pki_dir, "s-server-rsa", rsa_leaf, pki.intermediate.cert)
    ec_cert, ec_key = write_server_files(pki_dir, "s-server-ec", pki.leaf, pki.intermediate.cert)
    chain = str(pki_dir / "intermediate.pem")
    options = ["-cert_chain", chain, "-dcert", str(ec_cert), "-dkey", str(ec_key), "-dcert_chain", chain]
    server = start_openssl_s_server(options, rsa_cert, rsa_key)
    try:
        result = await _scan(f"{NAME}:{server.port}{{127.0.0.1}}", ca_check)
    finally:
        server.stop()
    assert {deployment.leaf.key_type for deployment in result.deployments} == {KeyType.RSA, KeyType.EC}
    assert all(deployment.trusted and deployment.hostname.matched for deployment in result.deployments)
    assert result.without_sni is WithoutSNI.SAME_CERTIFICATE


async def test_sni_dependent_certificates(pki_dir: Path, ca_check: CertificateCheck) -> None:
    pki = trust_pki()
    default = issue("default.example", key=ec.generate_private_key(ec.SECP256R1()), issuer=pki.intermediate,
                    sans=("default.example",))  # fmt: skip
    named_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    named_context.load_cert_chain(*write_server_files(pki_dir, "sni-named", pki.leaf, pki.intermediate.cert))

    def choose(tls: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        if name == NAME:
            tls.context = named_context

    with _server(pki_dir, "sni-default", default, pki.intermediate.cert) as server:
        server.context.sni_callback = choose  # type: ignore[assignment]
        result = await _scan(f"{NAME}:{server.port}{{127.0.0.1}}", ca_check)
    assert result.without_sni is WithoutSNI.DIFFERENT_CERTIFICATE
    named, unnamed = result.deployments
    assert named.leaf.subject == "CN=www.example.com" and named.hostname.matched
    assert {retrieval.server_name for retrieval in named.retrievals} == {NAME}
    assert unnamed.leaf.subject == "CN=default.example" and not unnamed.hostname.matched
    assert {retrieval.server_name for retrieval in unnamed.retrievals} == {None}


# --- OCSP stapling and Certificate Transparency --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "protocol", "versions"),
    [
        (ocsp.OCSPCertStatus.GOOD, "-tls1_2", {TLSVersion.TLS1_2}),  # in a CertificateStatus message
        (ocsp.OCSPCertStatus.GOOD, "-tls1_3", {TLSVersion.TLS1_3}),  # in the leaf's CertificateEntry
        (ocsp.OCSPCertStatus.REVOKED, "-no_ssl3", {TLSVersion.TLS1_2, TLSVersion.TLS1_3}),
    ],
)
async def test_ocsp_response_stapled_by_s_server(
    pki_dir: Path, ca_check: CertificateCheck, status: ocsp.OCSPCertStatus, protocol: str, versions: set[TLSVersion]
) -> None:
    pki = trust_pki()
    status_file = pki_dir / f"ocsp-{status.name}.der"
    status_file.write_bytes(ocsp_response_der(pki.leaf.cert, pki.intermediate, status))
    cert, key = write_server_files(pki_dir, "stapled", pki.leaf, pki.intermediate.cert)
    options = ["-status_file", str(status_file), "-cert_chain", str(pki_dir / "intermediate.pem"), protocol]
    server = start_openssl_s_server(options, cert, key)
    try:
        result = await _scan(f"{NAME}:{server.port}{{127.0.0.1}}", ca_check)
    finally:
        server.stop()
    (deployment,) = result.deployments
    assert {retrieval.version for retrieval in deployment.retrievals} == versions
    response = deployment.ocsp_stapling.response
    assert response is not None
    assert response.cert_status is OCSPCertStatus(status.name.lower())
    assert response.matches_leaf and response.trusted and not response.expired
    assert response.this_update == NOW - datetime.timedelta(hours=1)
    assert response.responder_key_hash is not None
    assert not deployment.ocsp_stapling.must_staple
    assert deployment.trusted
    if status is ocsp.OCSPCertStatus.REVOKED:
        assert response.revocation_time == NOW - datetime.timedelta(days=1)


async def test_must_staple_leaf_without_stapling(pki_dir: Path, ca_check: CertificateCheck) -> None:
    pki = trust_pki()
    must_staple = issue(NAME, key=ec.generate_private_key(ec.SECP256R1()), issuer=pki.intermediate, sans=(NAME,),
                        extensions=(x509.TLSFeature([x509.TLSFeatureType.status_request]),))  # fmt: skip
    with _server(pki_dir, "must-staple", must_staple, pki.intermediate.cert) as server:
        result = await _scan(f"{NAME}:{server.port}{{127.0.0.1}}", ca_check)
    stapling = result.deployments[0].ocsp_stapling
    assert stapling.must_staple and stapling.response is None and stapling.must_staple_violated


async def test_embedded_scts(pki_dir: Path, ca_check: CertificateCheck) -> None:
    pki = trust_pki()
    extension = x509.UnrecognizedExtension(
        SCT_LIST_CERTIFICATE_EXTENSION_OID, der_octet_string(sct_list(serialized_sct(LOG_A), serialized_sct(LOG_B)))
    )
    leaf = issue(NAME, key=ec.generate_private_key(ec.SECP256R1()), issuer=pki.intermediate, sans=(NAME,),
                 extensions=(extension,))  # fmt: skip
    with _server(pki_dir, "embedded-scts", leaf, pki.intermediate.cert) as server:
        result = await _scan(f"{NAME}:{server.port}{{127.0.0.1}}", ca_check)
    deployment = result.deployments[0]
    assert [(sct.source, sct.log_id) for sct in deployment.scts] == [
        (SCTSource.EMBEDDED, LOG_A),
        (SCTSource.EMBEDDED, LOG_B),
    ]
    assert (deployment.sct_counts.embedded, deployment.sct_counts.tls_extension) == (2, 0)


def _serverinfo_pem(extension_type: int, data: bytes) -> str:
    """An OpenSSL SERVERINFO file (v1): the extension type, its length, its data."""
    encoded = base64.b64encode(struct.pack(">HH", extension_type, len(data)) + data).decode("ascii")
    label = "SERVERINFO FOR signed_certificate_timestamp"
    return f"-----BEGIN {label}-----\n" + "\n".join(textwrap.wrap(encoded, 64)) + f"\n-----END {label}-----\n"


async def test_scts_in_the_tls_extension(pki_dir: Path, ca_check: CertificateCheck) -> None:
    pki = trust_pki()
    serverinfo = pki_dir / "serverinfo.pem"
    serverinfo.write_text(_serverinfo_pem(18, sct_list(serialized_sct(LOG_B))))
    cert, key = write_server_files(pki_dir, "sct-extension", pki.leaf, pki.intermediate.cert)
    # s_server sends the SERVERINFO extensions in TLS <= 1.2 ServerHellos only.
    server = start_openssl_s_server(["-serverinfo", str(serverinfo), "-no_tls1_3"], cert, key)
    try:
        result = await _scan(f"{NAME}:{server.port}{{127.0.0.1}}", ca_check)
    finally:
        server.stop()
    deployment = result.deployments[0]
    assert [(sct.source, sct.log_id) for sct in deployment.scts] == [(SCTSource.TLS_EXTENSION, LOG_B)]
    assert deployment.sct_counts.tls_extension == 1


# --- configuration -------------------------------------------------------------------------------------------------


def test_a_bad_ca_file_fails_when_the_check_is_made(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigurationError, match="holds no certificate that can be read"):
        CertificateCheck(ca_file=garbage)
    with pytest.raises(ConfigurationError, match="cannot be read"):
        CertificateCheck(ca_file=tmp_path / "missing.pem")


def test_a_certificate_that_cannot_be_parsed_fails_the_check_saying_where() -> None:
    retrieval = CertificateRetrieval(version=TLSVersion.TLS1_2, server_name=None, offered_key_type=OfferedKeyType.ANY)
    leaf_der = trust_pki().leaf.cert.public_bytes(serialization.Encoding.DER)
    chain = RetrievedChain(certificates=(leaf_der, b"\x30\x03garbage"), ocsp_response=None, sct_list=None,
                           retrieval=retrieval)  # fmt: skip
    expected = r"^certificate 2 of the chain sent at TLS 1\.2 cannot be parsed: "
    with pytest.raises(MalformedServerResponseError, match=expected):
        analyse_deployment([chain], NAME, [mozilla_store()], now=NOW)


def test_chains_are_grouped_by_leaf_in_the_order_first_seen() -> None:
    pki = trust_pki()
    first, second = (cert.public_bytes(serialization.Encoding.DER) for cert in (pki.wildcard.cert, pki.leaf.cert))

    def chain(leaf: bytes, version: TLSVersion) -> RetrievedChain:
        retrieval = CertificateRetrieval(version=version, server_name=None, offered_key_type=OfferedKeyType.ANY)
        return RetrievedChain(certificates=(leaf,), ocsp_response=None, sct_list=None, retrieval=retrieval)

    chains = [chain(first, TLSVersion.TLS1_2), chain(second, TLSVersion.TLS1_2), chain(first, TLSVersion.TLS1_3)]
    assert group_by_leaf(chains) == [[chains[0], chains[2]], [chains[1]]]
