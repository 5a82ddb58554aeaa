"""Policies and grades on real servers: nginx built to pass Mozilla's profiles, and servers built to fail them."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.servers.processes import RunningServer, start_nassl_server, start_nginx
from tests.trust import NOW, Issued, issue, ocsp_response_der, pem, trust_pki, write_server_files

from tlsprobe import ScanConfig, ServerScanResult, scan_server
from tlsprobe.checks import DEFAULT_CHECKS, CertificateCheck, Check
from tlsprobe.policy import Verdict, mozilla_profile
from tlsprobe.testing import LocalTLSServer

pytestmark = [pytest.mark.anyio, pytest.mark.realserver]

NAME = "www.example.com"
_MOZILLA_CURVES = "X25519:prime256v1:secp384r1"
_INTERMEDIATE_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory: Path = tmp_path_factory.mktemp("policy")
    (directory / "root.pem").write_bytes(pem(trust_pki().root.cert))
    return directory


def _staple(directory: Path, leaf: Issued) -> Path:
    path = directory / f"ocsp-{leaf.cert.serial_number}.der"
    path.write_bytes(ocsp_response_der(leaf.cert, trust_pki().intermediate))
    return path


@pytest.fixture(scope="module")
def ecdsa_leaf() -> Issued:
    """A P-256 leaf valid for 60 days: what Mozilla's modern profile asks for."""
    return issue(NAME, key=ec.generate_private_key(ec.SECP256R1()), issuer=trust_pki().intermediate, sans=(NAME,),
                 not_after=NOW + datetime.timedelta(days=59))  # fmt: skip


@pytest.fixture(scope="module")
def rsa_leaf() -> Issued:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return issue(
        NAME, key=key, issuer=trust_pki().intermediate, sans=(NAME,), not_after=NOW + datetime.timedelta(days=59)
    )


def _nginx(directory: Path, leaf: Issued, stem: str, directives: str) -> Iterator[RunningServer]:
    chain, key = write_server_files(directory, stem, leaf, trust_pki().intermediate.cert)
    server = start_nginx(
        directory / stem,
        f"ssl_certificate {chain};\nssl_certificate_key {key};\nssl_ecdh_curve {_MOZILLA_CURVES};\n"
        f"ssl_stapling on;\nssl_stapling_file {_staple(directory, leaf)};\n"
        "add_header Strict-Transport-Security 'max-age=63072000' always;\n" + directives,
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def nginx_modern(pki_dir: Path, ecdsa_leaf: Issued) -> Iterator[RunningServer]:
    yield from _nginx(pki_dir, ecdsa_leaf, "modern", "ssl_protocols TLSv1.3;\nssl_prefer_server_ciphers off;")


@pytest.fixture(scope="module")
def nginx_intermediate(pki_dir: Path, rsa_leaf: Issued) -> Iterator[RunningServer]:
    directives = f"ssl_protocols TLSv1.2 TLSv1.3;\nssl_ciphers {_INTERMEDIATE_CIPHERS};\nssl_prefer_server_ciphers off;"
    yield from _nginx(pki_dir, rsa_leaf, "intermediate", directives)


def _checks(pki_dir: Path) -> list[Check[Any]]:
    return [CertificateCheck(ca_file=pki_dir / "root.pem") if c.name == "certificate" else c for c in DEFAULT_CHECKS]


async def _scan(port: int, pki_dir: Path, profile: str | None, host: str = NAME) -> ServerScanResult:
    config = ScanConfig(policy=mozilla_profile(profile) if profile else None)
    return await scan_server(f"{host}:{port}{{127.0.0.1}}", _checks(pki_dir), config=config)


def _deviations(result: ServerScanResult) -> dict[str, tuple[str, ...]]:
    assert result.compliance is not None
    return {deviation.rule: deviation.found for deviation in result.compliance.deviations}


# --- Mozilla profiles ----------------------------------------------------------------------------------------------


async def test_nginx_built_for_modern_passes_modern_and_gets_a_plus(nginx_modern: RunningServer, pki_dir: Path) -> None:
    result = await _scan(nginx_modern.port, pki_dir, "modern")
    assert result.compliance is not None
    assert result.compliance.deviations == ()
    assert result.compliance.unevaluated == ()
    assert result.compliance.verdict is Verdict.PASS
    assert result.grade is not None and result.grade.grade == "A+"
    assert result.findings == ()


async def test_nginx_built_for_modern_fails_old_for_its_ecdsa_certificate(
    nginx_modern: RunningServer, pki_dir: Path
) -> None:
    result = await _scan(nginx_modern.port, pki_dir, "old")
    assert result.compliance is not None and result.compliance.verdict is Verdict.FAIL
    deviations = _deviations(result)
    assert deviations["certificate_key_types"] == ("CN=www.example.com: ec",)
    assert deviations["certificate_signatures"] == ("CN=www.example.com: ecdsa-with-SHA256",)
    # old wants the server's own cipher order; nginx here lets the client choose (only TLS 1.3, where the
    # enumeration saw the client's order win).
    assert set(deviations) <= {"certificate_key_types", "certificate_signatures", "server_cipher_order"}


async def test_nginx_built_for_intermediate_passes_intermediate_and_fails_modern(
    nginx_intermediate: RunningServer, pki_dir: Path
) -> None:
    result = await _scan(nginx_intermediate.port, pki_dir, "intermediate")
    assert result.compliance is not None
    assert (result.compliance.verdict, result.compliance.deviations) == (Verdict.PASS, ())
    modern = await _scan(nginx_intermediate.port, pki_dir, "modern")
    deviations = _deviations(modern)
    assert deviations["protocol_versions"] == ("TLS 1.2 accepted",)
    assert len(deviations["cipher_suites"]) == 3  # the three ECDHE-RSA suites of TLS 1.2
    assert deviations["certificate_key_types"] == ("CN=www.example.com: rsa",)


async def test_a_policy_rule_whose_check_did_not_run_makes_the_verdict_incomplete(
    nginx_modern: RunningServer, pki_dir: Path
) -> None:
    checks = [check for check in _checks(pki_dir) if check.name != "http_headers"]
    config = ScanConfig(policy=mozilla_profile("modern"))
    result = await scan_server(f"{NAME}:{nginx_modern.port}{{127.0.0.1}}", checks, config=config)
    assert result.compliance is not None
    assert result.compliance.verdict is Verdict.INCOMPLETE
    assert [(u.rule, u.reason) for u in result.compliance.unevaluated] == [
        ("hsts_min_age", "the http_headers check was not run")
    ]


async def test_legacy_openssl_1_0_2_fails_old(pki_dir: Path, test_pki: Any) -> None:
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, ciphers="ALL") as server:
        result = await _scan(server.port, pki_dir, "old", host="localhost")
    deviations = _deviations(result)
    assert (
        "SSL 2.0 accepted" in deviations["protocol_versions"] and "SSL 3.0 accepted" in deviations["protocol_versions"]
    )
    assert any("RC4" in suite for suite in deviations["cipher_suites"])
    assert deviations["compression"] == ("TLS compression: CRIME (CVE-2012-4929): compression method 1 with TLS 1.2",)
    assert deviations["no_extended_master_secret"] == (
        "No extended master secret (RFC 7627): triple handshake attacks: not negotiated with TLS 1.2",
    )
    assert result.grade is not None and result.grade.grade == "F"
    finding_ids = {finding.id for finding in result.findings}
    assert {"drown", "sslv3", "poodle", "rc4", "sweet32", "compression", "export", "beast"} <= finding_ids


# --- the grade ladder ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected", "cap"),
    [
        ({"minimum_version": ssl.TLSVersion.TLSv1_2, "http_response": True}, "A+", None),
        ({"minimum_version": ssl.TLSVersion.TLSv1_2, "maximum_version": ssl.TLSVersion.TLSv1_2}, "A-",
         "TLS 1.3 is not accepted"),
        ({"minimum_version": ssl.TLSVersion.TLSv1, "ciphers": "DEFAULT:@SECLEVEL=0"}, "B",
         "TLS 1.0 is accepted (deprecated by RFC 8996)"),
        ({"minimum_version": ssl.TLSVersion.TLSv1_2, "ciphers": "ALL:@SECLEVEL=0",
          "maximum_version": ssl.TLSVersion.TLSv1_2}, "F", "Anonymous key exchange: no server authentication"),
    ],
)  # fmt: skip
async def test_grade_ladder_on_python_servers(
    test_pki: Any, pki_dir: Path, options: dict[str, Any], expected: str, cap: str | None
) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, **options) as server:
        checks = [CertificateCheck(ca_file=test_pki.ca_cert) if c.name == "certificate" else c for c in DEFAULT_CHECKS]
        result = await scan_server(f"127.0.0.1:{server.port}", checks)
    assert result.grade is not None
    assert result.grade.grade == expected, result.grade
    if cap is not None:
        assert cap in [c.reason for c in result.grade.caps if c.grade == expected]


async def test_an_untrusted_certificate_caps_the_grade_at_f(test_pki: Any) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}")  # no CA file: the test CA is unknown
    assert result.grade is not None and result.grade.grade == "F"
    assert any(cap.reason.endswith("is not trusted by any trust store") for cap in result.grade.caps)
    assert result.compliance is None  # no policy, no verdict


async def test_grade_a_without_hsts_and_c_for_rc4(test_pki: Any) -> None:
    checks = [CertificateCheck(ca_file=test_pki.ca_cert) if c.name == "certificate" else c for c in DEFAULT_CHECKS]
    # No HTTP at all: no HSTS, so no plus.
    plain = LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, http_response=False,
                           minimum_version=ssl.TLSVersion.TLSv1_2)  # fmt: skip
    with plain as server:
        result = await scan_server(f"127.0.0.1:{server.port}", checks)
    assert result.grade is not None and (result.grade.grade, result.grade.caps) == ("A", ())
    # OpenSSL 1.1.1, TLS 1.2 only, an AEAD suite and RC4.
    rc4 = start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, legacy=False, version="tls1_2",
                             ciphers="ECDHE-RSA-AES128-GCM-SHA256:RC4-SHA")  # fmt: skip
    with rc4 as server:
        result = await scan_server(f"localhost:{server.port}", checks)
    assert result.grade is not None and result.grade.grade == "C"
    assert [cap.reason for cap in result.grade.caps if cap.grade == "C"] == ["RC4 suites (RFC 7465 forbids them)"]
