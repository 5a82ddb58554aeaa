"""Findings: what is wrong with a server, in plain words, derived from the check results with their evidence.

Nothing here probes: each finding follows from observations already made (SWEET32 from a 64-bit block cipher
accepted, FREAK from an export RSA suite, DROWN exposure from SSL 2.0 on this endpoint...). A check that did not
complete gives no finding; its failure is reported as such, never read as "not vulnerable".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from tlsprobe._model._assessment import Finding, Severity
from tlsprobe._model._results import CheckCompleted, ServerScanResult
from tlsprobe.checks.ccs_injection import CCSInjectionResult
from tlsprobe.checks.certificate import CertificateResult
from tlsprobe.checks.cipher_suites import CipherSuitesResult
from tlsprobe.checks.client_renegotiation import ClientRenegotiationResult
from tlsprobe.checks.compression import CompressionResult
from tlsprobe.checks.extensions import ExtendedMasterSecretResult, SecureRenegotiationResult
from tlsprobe.checks.fallback_scsv import FallbackSCSVResult
from tlsprobe.checks.heartbleed import HeartbleedResult
from tlsprobe.checks.robot import RobotResult, RobotVerdict
from tlsprobe.trust import OCSPCertStatus
from tlsprobe.wire import EphemeralKeyKind
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import CipherSuite, KeyExchange

_SMALL_BLOCK_CIPHERS: Final = ("3DES", "DES", "IDEA", "RC2")
_DEPRECATED: Final = {
    TLSVersion.SSL3: ("sslv3", Severity.HIGH, "SSL 3.0 is accepted (broken, RFC 7568)"),
    TLSVersion.TLS1_0: ("tls1_0", Severity.MEDIUM, "TLS 1.0 is accepted (deprecated by RFC 8996)"),
    TLSVersion.TLS1_1: ("tls1_1", Severity.MEDIUM, "TLS 1.1 is accepted (deprecated by RFC 8996)"),
}


def _is_rc4(suite: CipherSuite) -> bool:
    return suite.encryption.startswith("RC4")


def _has_64_bit_blocks(suite: CipherSuite) -> bool:
    return any(cipher in suite.encryption for cipher in _SMALL_BLOCK_CIPHERS)


def suite_weakness(suite: CipherSuite) -> str | None:
    """Why one suite is unsafe to accept, or None (the report marks such suites; the findings group them)."""
    if suite.is_anonymous:
        return "no server authentication"
    if suite.key_size == 0:
        return "no encryption"
    if suite.is_export:
        return "export-grade"
    if _is_rc4(suite):
        return "RC4"
    if suite.key_size < 128:
        return f"{suite.key_size}-bit cipher"
    if _has_64_bit_blocks(suite):
        return "64-bit block cipher (SWEET32)"
    return None


def _suite(version: TLSVersion, suite: CipherSuite) -> str:
    return f"{suite.name} ({version.label})"


def _cipher_findings(results: list[CipherSuitesResult]) -> Iterator[Finding]:
    accepted = [(r.version, e) for r in results for e in r.accepted_cipher_suites]

    def suites(select: Callable[[TLSVersion, CipherSuite], bool]) -> tuple[str, ...]:
        return tuple(
            _suite(version, entry.cipher_suite) for version, entry in accepted if select(version, entry.cipher_suite)
        )

    versions = {result.version: result for result in results if result.is_supported}
    if TLSVersion.SSL2 in versions:
        yield Finding(
            id="drown",
            severity=Severity.HIGH,
            title="SSL 2.0 is accepted: this endpoint exposes its key to DROWN (CVE-2016-0800)",
            evidence=suites(lambda version, _: version is TLSVersion.SSL2),
        )
    for deprecated, (finding_id, severity, title) in _DEPRECATED.items():
        if deprecated in versions:
            evidence = tuple(_suite(deprecated, e.cipher_suite) for e in versions[deprecated].accepted_cipher_suites)
            yield Finding(id=finding_id, severity=severity, title=title, evidence=evidence)
    rules: list[tuple[str, Severity, str, Callable[[TLSVersion, CipherSuite], bool]]] = [
        (
            "poodle",
            Severity.HIGH,
            "CBC suites with SSL 3.0: POODLE (CVE-2014-3566)",
            lambda v, s: v is TLSVersion.SSL3 and "CBC" in s.encryption,
        ),
        ("anonymous", Severity.HIGH, "Anonymous key exchange: no server authentication", lambda _, s: s.is_anonymous),
        (
            "null_cipher",
            Severity.HIGH,
            "NULL suites: no encryption",
            lambda _, s: s.key_size == 0 and not s.is_anonymous,
        ),
        ("export", Severity.HIGH, "Export-grade suites", lambda _, s: s.is_export),
        (
            "freak",
            Severity.HIGH,
            "Export RSA key exchange: FREAK (CVE-2015-0204)",
            lambda _, s: s.is_export and s.key_exchange is KeyExchange.RSA,
        ),
        ("rc4", Severity.HIGH, "RC4 suites (RFC 7465 forbids them)", lambda _, s: _is_rc4(s)),
        (
            "sweet32",
            Severity.MEDIUM,
            "64-bit block ciphers: SWEET32 (CVE-2016-2183)",
            lambda _, s: _has_64_bit_blocks(s),
        ),
        (
            "beast",
            Severity.LOW,
            "CBC suites with TLS 1.0 or SSL 3.0: BEAST conditions (CVE-2011-3389)",
            lambda v, s: v in (TLSVersion.SSL3, TLSVersion.TLS1_0) and "CBC" in s.encryption,
        ),
    ]
    for finding_id, severity, title, select in rules:
        evidence = suites(select)
        if evidence:
            yield Finding(id=finding_id, severity=severity, title=title, evidence=evidence)
    weak_dh = [
        (version, entry.cipher_suite, entry.ephemeral_key.size)
        for version, entry in accepted
        if entry.ephemeral_key is not None
        and entry.ephemeral_key.kind is EphemeralKeyKind.DH
        and (entry.ephemeral_key.size < 2048 or entry.cipher_suite.is_export)
    ]
    if weak_dh:
        broken = any(size < 1024 or suite.is_export for _, suite, size in weak_dh)
        yield Finding(
            id="logjam",
            severity=Severity.HIGH if broken else Severity.MEDIUM,
            title="Diffie-Hellman groups under 2048 bits: LOGJAM exposure (CVE-2015-4000)",
            evidence=tuple(f"{_suite(version, suite)}: {size}-bit DH" for version, suite, size in weak_dh),
        )


def _certificate_findings(result: CertificateResult) -> Iterator[Finding]:
    for deployment in result.deployments:
        subject = deployment.leaf.subject
        chain = deployment.chain
        if not deployment.trusted:
            reasons = tuple(f"{verdict.store.value}: {verdict.error}" for verdict in deployment.trust)
            yield Finding(
                id="certificate_untrusted",
                severity=Severity.HIGH,
                title=f"Certificate {subject!r} is not trusted by any trust store",
                evidence=reasons,
            )
        hostname = deployment.hostname
        if not hostname.matched:
            yield Finding(
                id="certificate_hostname_mismatch",
                severity=Severity.HIGH,
                title=f"Certificate {subject!r} is not valid for {hostname.name}",
                evidence=(str(hostname.mismatch_reason),),
            )
        if chain.any_expired or chain.any_not_yet_valid:
            evidence = tuple(
                f"{facts.subject}: valid {facts.not_before.date()} to {facts.not_after.date()}"
                for facts in chain.received_chain
                if facts.expired or facts.not_yet_valid
            )
            yield Finding(
                id="certificate_validity",
                severity=Severity.HIGH,
                title=f"Certificate {subject!r}: a certificate of its chain is expired or not yet valid",
                evidence=evidence,
            )
        if chain.weak_keys:
            yield Finding(
                id="certificate_weak_key",
                severity=Severity.HIGH,
                title=f"Certificate {subject!r}: weak keys in its chain",
                evidence=chain.weak_keys,
            )
        if chain.sha1_signed or chain.sha1_in_verified_chain:
            yield Finding(
                id="certificate_sha1",
                severity=Severity.MEDIUM,
                title=f"Certificate {subject!r}: SHA-1 signatures in its chain",
                evidence=chain.sha1_signed,
            )
        stapling = deployment.ocsp_stapling
        if stapling.response is not None and stapling.response.cert_status is OCSPCertStatus.REVOKED:
            yield Finding(
                id="certificate_revoked",
                severity=Severity.CRITICAL,
                title=f"Certificate {subject!r} is revoked according to its stapled OCSP response",
                evidence=(f"revoked at {stapling.response.revocation_time}",),
            )
        if stapling.must_staple_violated:
            yield Finding(
                id="must_staple_violated",
                severity=Severity.MEDIUM,
                title=f"Certificate {subject!r} is must-staple and no valid OCSP response is stapled",
                evidence=("TLS feature status_request in the certificate",),
            )


def _feature_findings(result: object) -> Iterator[Finding]:
    match result:
        case HeartbleedResult(vulnerable=True):
            yield Finding(
                id="heartbleed",
                severity=Severity.CRITICAL,
                title="Heartbleed (CVE-2014-0160)",
                evidence=(f"{result.leaked_bytes} bytes of memory leaked ({result.tested_version.label})",),
            )
        case CCSInjectionResult(vulnerable=True):
            yield Finding(
                id="openssl_ccs_injection",
                severity=Severity.HIGH,
                title="OpenSSL CCS injection (CVE-2014-0224)",
                evidence=(result.server_reaction,),
            )
        case RobotResult(verdict=RobotVerdict.strong_oracle | RobotVerdict.weak_oracle):
            strength = "strong" if result.verdict is RobotVerdict.strong_oracle else "weak"
            yield Finding(
                id="robot",
                severity=Severity.HIGH if strength == "strong" else Severity.MEDIUM,
                title=f"ROBOT: a {strength} Bleichenbacher oracle on RSA key exchange",
                evidence=tuple(f"{r.variant.value}: {r.reaction}" for r in result.responses),
            )
        case CompressionResult(supports_compression=True):
            yield Finding(
                id="compression",
                severity=Severity.MEDIUM,
                title="TLS compression: CRIME (CVE-2012-4929)",
                evidence=(f"compression method {result.compression_method} with {result.tested_version.label}",),
            )
        case SecureRenegotiationResult(supports_secure_renegotiation=False):
            yield Finding(
                id="insecure_renegotiation",
                severity=Severity.MEDIUM,
                title="No secure renegotiation (RFC 5746): CVE-2009-3555",
                evidence=(f"no renegotiation_info with {result.tested_version.label}",),
            )
        case ClientRenegotiationResult(accepts_client_renegotiation=True):
            yield Finding(
                id="client_renegotiation",
                severity=Severity.MEDIUM,
                title="Client-initiated renegotiation accepted: a denial-of-service risk",
                evidence=(f"{result.successful_renegotiations} of {result.attempted_renegotiations} in a row",),
            )
        case ExtendedMasterSecretResult(supports_extended_master_secret=False):
            yield Finding(
                id="no_extended_master_secret",
                severity=Severity.MEDIUM,
                title="No extended master secret (RFC 7627): triple handshake attacks",
                evidence=(f"not negotiated with {result.tested_version.label}",),
            )
        case FallbackSCSVResult(supports_fallback_scsv=False, tested_version=TLSVersion() as version):
            yield Finding(
                id="no_fallback_scsv",
                severity=Severity.MEDIUM,
                title="TLS_FALLBACK_SCSV not honoured: downgrades are possible",
                evidence=(f"a fallback to {version.label} was accepted",),
            )


def derive_findings(result: ServerScanResult) -> tuple[Finding, ...]:
    """Every finding the results support, most severe first."""
    found: list[Finding] = []
    completed = [outcome.result for outcome in result.checks if isinstance(outcome, CheckCompleted)]
    ciphers = [item for item in completed if isinstance(item, CipherSuitesResult)]
    found += _cipher_findings(ciphers)
    for item in completed:
        if isinstance(item, CertificateResult):
            found += _certificate_findings(item)
        else:
            found += _feature_findings(item)
    order = list(Severity)
    return tuple(sorted(found, key=lambda finding: order.index(finding.severity)))
