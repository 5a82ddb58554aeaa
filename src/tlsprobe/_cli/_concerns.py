"""What in a result should fail a CI job (exit code 1). Policy and grading go further; this is the floor."""

from __future__ import annotations

from tlsprobe._cli._render_certificate import certificate_concerns
from tlsprobe._models import CheckCompleted, CheckFailed, ConnectivityFailed, ServerScanResult
from tlsprobe.checks.ccs_injection import CCSInjectionResult
from tlsprobe.checks.certificate import CertificateResult
from tlsprobe.checks.cipher_suites import CipherSuitesResult
from tlsprobe.checks.client_renegotiation import ClientRenegotiationResult
from tlsprobe.checks.compression import CompressionResult
from tlsprobe.checks.extensions import ExtendedMasterSecretResult, SecureRenegotiationResult
from tlsprobe.checks.fallback_scsv import FallbackSCSVResult
from tlsprobe.checks.heartbleed import HeartbleedResult
from tlsprobe.checks.robot import RobotResult, RobotVerdict
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import CipherSuite

_DEPRECATED_VERSIONS = {
    TLSVersion.SSL2: "SSL 2.0 is accepted (broken: DROWN)",
    TLSVersion.SSL3: "SSL 3.0 is accepted (broken: POODLE)",
    TLSVersion.TLS1_0: "TLS 1.0 is accepted (deprecated by RFC 8996)",
    TLSVersion.TLS1_1: "TLS 1.1 is accepted (deprecated by RFC 8996)",
}


def suite_weakness(suite: CipherSuite) -> str | None:
    """Why a suite is unsafe to accept, or None."""
    if suite.is_anonymous:
        return "no server authentication"
    if suite.key_size == 0:
        return "no encryption"
    if suite.is_export:
        return "export-grade"
    if suite.encryption.startswith("RC4"):
        return "RC4"
    if suite.key_size < 128:
        return f"{suite.key_size}-bit cipher"
    if any(cipher in suite.encryption for cipher in ("3DES", "DES", "IDEA", "RC2")):
        return "64-bit block cipher (SWEET32)"
    return None


def concerns(result: ServerScanResult) -> list[str]:
    """Plain-language concerns, most serious first; empty when the scan found nothing to worry about."""
    if isinstance(result.connectivity, ConnectivityFailed):
        return [f"not scanned: {result.connectivity.error.message}"]
    found: list[str] = []
    for outcome in result.checks:
        if isinstance(outcome, CheckFailed):
            found.append(f"{outcome.name} could not be completed: {outcome.error.message}")
        elif isinstance(outcome, CheckCompleted):
            found.extend(_result_concerns(outcome.result))
    return found


def _result_concerns(result: object) -> list[str]:
    match result:
        case CipherSuitesResult():
            return _cipher_concerns(result)
        case CertificateResult():
            return certificate_concerns(result)
        case CompressionResult(supports_compression=True):
            return [f"TLS compression is accepted with {result.tested_version.label} (CRIME)"]
        case SecureRenegotiationResult(supports_secure_renegotiation=False):
            return [f"secure renegotiation (RFC 5746) is not supported with {result.tested_version.label}"]
        case ClientRenegotiationResult(accepts_client_renegotiation=True):
            return [
                f"client-initiated renegotiation is accepted ({result.successful_renegotiations} of "
                f"{result.attempted_renegotiations} in a row): a denial-of-service risk"
            ]
        case ExtendedMasterSecretResult(supports_extended_master_secret=False):
            return [f"the extended master secret (RFC 7627) is not supported with {result.tested_version.label}"]
        case FallbackSCSVResult(supports_fallback_scsv=False, tested_version=TLSVersion() as version):
            return [f"a fallback to {version.label} is accepted: TLS_FALLBACK_SCSV is not honoured"]
        case HeartbleedResult(vulnerable=True):
            return [f"VULNERABLE to Heartbleed (CVE-2014-0160): {result.leaked_bytes} bytes of memory leaked"]
        case CCSInjectionResult(vulnerable=True):
            return ["VULNERABLE to OpenSSL CCS injection (CVE-2014-0224)"]
        case RobotResult(verdict=RobotVerdict.strong_oracle | RobotVerdict.weak_oracle):
            strength = "strong" if result.verdict is RobotVerdict.strong_oracle else "weak"
            return [f"VULNERABLE to ROBOT: a {strength} Bleichenbacher padding oracle on RSA key exchange"]
    return []


def _cipher_concerns(result: CipherSuitesResult) -> list[str]:
    found = []
    if result.is_supported and result.version in _DEPRECATED_VERSIONS:
        found.append(_DEPRECATED_VERSIONS[result.version])
    for entry in result.accepted_cipher_suites:
        weakness = suite_weakness(entry.cipher_suite)
        if weakness is not None:
            found.append(f"{result.version.label}: {entry.cipher_suite.name} ({weakness})")
    return found
