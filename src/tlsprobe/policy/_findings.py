"""Findings: what is wrong with a server, in plain words, derived from the check results with their evidence.

Nothing here probes: each finding follows from observations already made (SWEET32 from a 64-bit block cipher
accepted, FREAK from an export RSA suite, DROWN exposure from SSL 2.0 on this endpoint...). A check that did not
complete gives no finding; its failure is reported as such, never read as "not vulnerable". Every finding is built
from its kind in ``_catalogue`` (id, severity), never from a free string.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

import tlsprobe.policy._catalogue as kinds
from tlsprobe._model._assessment import Finding, Severity
from tlsprobe._model._results import CheckCompleted, ServerScanResult
from tlsprobe.checks.ccs_injection import CCSInjectionResult
from tlsprobe.checks.certificate import CertificateResult
from tlsprobe.checks.cipher_suites import AcceptedCipherSuite, CipherSuitesResult
from tlsprobe.checks.client_renegotiation import ClientRenegotiationResult
from tlsprobe.checks.compression import CompressionResult
from tlsprobe.checks.extensions import ExtendedMasterSecretResult, SecureRenegotiationResult
from tlsprobe.checks.fallback_scsv import FallbackSCSVResult
from tlsprobe.checks.heartbleed import HeartbleedResult
from tlsprobe.checks.robot import RobotResult, RobotVerdict
from tlsprobe.policy._catalogue import FindingKind
from tlsprobe.policy._dh_groups import evidence_of, observed_dh_groups
from tlsprobe.trust import OCSPCertStatus
from tlsprobe.wire import EphemeralKeyKind
from tlsprobe.wire._dh_groups import DHGroupAnalysis, GeneratorOrder, Primality
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import CipherSuite, KeyExchange

_SMALL_BLOCK_CIPHERS: Final = ("3DES", "DES", "IDEA", "RC2")
_DEPRECATED: Final = {
    TLSVersion.SSL3: (kinds.SSLV3, "SSL 3.0 is accepted (broken, RFC 7568)"),
    TLSVersion.TLS1_0: (kinds.TLS1_0, "TLS 1.0 is accepted (deprecated by RFC 8996)"),
    TLSVersion.TLS1_1: (kinds.TLS1_1, "TLS 1.1 is accepted (deprecated by RFC 8996)"),
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
        yield kinds.DROWN.finding(
            title="SSL 2.0 is accepted: this endpoint exposes its key to DROWN (CVE-2016-0800)",
            evidence=suites(lambda version, _: version is TLSVersion.SSL2),
        )
    for deprecated, (kind, title) in _DEPRECATED.items():
        if deprecated in versions:
            evidence = tuple(_suite(deprecated, e.cipher_suite) for e in versions[deprecated].accepted_cipher_suites)
            yield kind.finding(title=title, evidence=evidence)
    rules: list[tuple[FindingKind, str, Callable[[TLSVersion, CipherSuite], bool]]] = [
        (
            kinds.POODLE,
            "CBC suites with SSL 3.0: POODLE (CVE-2014-3566)",
            lambda v, s: v is TLSVersion.SSL3 and "CBC" in s.encryption,
        ),
        (kinds.ANONYMOUS, "Anonymous key exchange: no server authentication", lambda _, s: s.is_anonymous),
        (
            kinds.NULL_CIPHER,
            "NULL suites: no encryption",
            lambda _, s: s.key_size == 0 and not s.is_anonymous,
        ),
        (kinds.EXPORT, "Export-grade suites", lambda _, s: s.is_export),
        (
            kinds.FREAK,
            "Export RSA key exchange: FREAK (CVE-2015-0204)",
            lambda _, s: s.is_export and s.key_exchange is KeyExchange.RSA,
        ),
        (kinds.RC4, "RC4 suites (RFC 7465 forbids them)", lambda _, s: _is_rc4(s)),
        (
            kinds.SWEET32,
            "64-bit block ciphers: SWEET32 (CVE-2016-2183)",
            lambda _, s: _has_64_bit_blocks(s),
        ),
        (
            kinds.BEAST,
            "CBC suites with TLS 1.0 or SSL 3.0: BEAST conditions (CVE-2011-3389)",
            lambda v, s: v in (TLSVersion.SSL3, TLSVersion.TLS1_0) and "CBC" in s.encryption,
        ),
    ]
    for kind, title, select in rules:
        evidence = suites(select)
        if evidence:
            yield kind.finding(title=title, evidence=evidence)
    weak_dh = [
        (version, entry.cipher_suite, entry.ephemeral_key.size)
        for version, entry in accepted
        if entry.ephemeral_key is not None
        and entry.ephemeral_key.kind is EphemeralKeyKind.DH
        and (entry.ephemeral_key.size < 2048 or entry.cipher_suite.is_export)
    ]
    if weak_dh:
        broken = any(size < 1024 or suite.is_export for _, suite, size in weak_dh)
        yield kinds.LOGJAM.finding(
            severity=Severity.HIGH if broken else Severity.MEDIUM,
            title="Diffie-Hellman groups under 2048 bits: LOGJAM exposure (CVE-2015-4000)",
            evidence=tuple(f"{_suite(version, suite)}: {size}-bit DH" for version, suite, size in weak_dh),
        )
    yield from _missing_features(results, accepted)


def _missing_features(
    results: list[CipherSuitesResult], accepted: list[tuple[TLSVersion, AcceptedCipherSuite]]
) -> Iterator[Finding]:
    """What the accepted suites lack, judged only on what was observed: TLS 1.3 once its check completed, forward
    secrecy and AEAD once every version's did (a version left unchecked may have them)."""
    checked = {result.version: result for result in results}
    tls1_3 = checked.get(TLSVersion.TLS1_3)
    if tls1_3 is not None and not tls1_3.is_supported:
        highest = max((result.version for result in results if result.is_supported), default=None)
        yield kinds.NO_TLS1_3.finding(
            title="TLS 1.3 is not accepted",
            evidence=(f"highest version accepted: {highest.label}" if highest else "no version accepted",),
        )
    if set(checked) != set(TLSVersion) or not accepted:
        return
    every_suite = tuple(_suite(version, entry.cipher_suite) for version, entry in accepted)
    if not any(entry.ephemeral_key is not None and not entry.cipher_suite.is_anonymous for _, entry in accepted):
        yield kinds.NO_FORWARD_SECRECY.finding(
            title="No suite with forward secrecy (ECDHE, DHE or TLS 1.3)", evidence=every_suite
        )
    if not any(entry.cipher_suite.is_aead for _, entry in accepted):
        yield kinds.NO_AEAD.finding(title="No AEAD suite (GCM, ChaCha20-Poly1305, CCM)", evidence=every_suite)


def _certificate_findings(result: CertificateResult) -> Iterator[Finding]:
    for deployment in result.deployments:
        subject = deployment.leaf.subject
        chain = deployment.chain
        if not deployment.trusted:
            reasons = tuple(f"{verdict.store.value}: {verdict.error}" for verdict in deployment.trust)
            yield kinds.CERTIFICATE_UNTRUSTED.finding(
                title=f"Certificate {subject!r} is not trusted by any trust store",
                evidence=reasons,
            )
        hostname = deployment.hostname
        if not hostname.matched:
            yield kinds.CERTIFICATE_HOSTNAME_MISMATCH.finding(
                title=f"Certificate {subject!r} is not valid for {hostname.name}",
                evidence=(str(hostname.mismatch_reason),),
            )
        if chain.any_expired or chain.any_not_yet_valid:
            evidence = tuple(
                f"{facts.subject}: valid {facts.not_before.date()} to {facts.not_after.date()}"
                for facts in chain.received_chain
                if facts.expired or facts.not_yet_valid
            )
            yield kinds.CERTIFICATE_VALIDITY.finding(
                title=f"Certificate {subject!r}: a certificate of its chain is expired or not yet valid",
                evidence=evidence,
            )
        if chain.weak_keys:
            yield kinds.CERTIFICATE_WEAK_KEY.finding(
                title=f"Certificate {subject!r}: weak keys in its chain",
                evidence=chain.weak_keys,
            )
        if chain.sha1_signed or chain.sha1_in_verified_chain:
            yield kinds.CERTIFICATE_SHA1.finding(
                title=f"Certificate {subject!r}: SHA-1 signatures in its chain",
                evidence=chain.sha1_signed,
            )
        if chain.broken_hash_signed:
            yield kinds.CERTIFICATE_WEAK_SIGNATURE.finding(
                title=f"Certificate {subject!r}: MD5 (or older hash) signatures in its chain",
                evidence=tuple(
                    f"{facts.subject}: signed with {facts.signature_algorithm}"
                    for facts in chain.received_chain
                    if facts.subject in chain.broken_hash_signed and not facts.is_self_signed
                ),
            )
        stapling = deployment.ocsp_stapling
        if stapling.response is not None and stapling.response.cert_status is OCSPCertStatus.REVOKED:
            yield kinds.CERTIFICATE_REVOKED.finding(
                title=f"Certificate {subject!r} is revoked according to its stapled OCSP response",
                evidence=(f"revoked at {stapling.response.revocation_time}",),
            )
        if stapling.must_staple_violated:
            yield kinds.MUST_STAPLE_VIOLATED.finding(
                title=f"Certificate {subject!r} is must-staple and no valid OCSP response is stapled",
                evidence=("TLS feature status_request in the certificate",),
            )


def _feature_findings(result: object) -> Iterator[Finding]:
    match result:
        case HeartbleedResult(vulnerable=True):
            yield kinds.HEARTBLEED.finding(
                title="Heartbleed (CVE-2014-0160)",
                evidence=(f"{result.leaked_bytes} bytes of memory leaked ({result.tested_version.label})",),
            )
        case CCSInjectionResult(vulnerable=True):
            yield kinds.OPENSSL_CCS_INJECTION.finding(
                title="OpenSSL CCS injection (CVE-2014-0224)",
                evidence=(result.server_reaction,),
            )
        case RobotResult(verdict=RobotVerdict.strong_oracle | RobotVerdict.weak_oracle):
            strength = "strong" if result.verdict is RobotVerdict.strong_oracle else "weak"
            yield kinds.ROBOT.finding(
                severity=Severity.HIGH if strength == "strong" else Severity.MEDIUM,
                title=f"ROBOT: a {strength} Bleichenbacher oracle on RSA key exchange",
                evidence=tuple(f"{r.variant.value}: {r.reaction}" for r in result.responses),
            )
        case CompressionResult(supports_compression=True):
            yield kinds.COMPRESSION.finding(
                title="TLS compression: CRIME (CVE-2012-4929)",
                evidence=(f"compression method {result.compression_method} with {result.tested_version.label}",),
            )
        case SecureRenegotiationResult(supports_secure_renegotiation=False):
            yield kinds.INSECURE_RENEGOTIATION.finding(
                title="No secure renegotiation (RFC 5746): CVE-2009-3555",
                evidence=(f"no renegotiation_info with {result.tested_version.label}",),
            )
        case ClientRenegotiationResult(accepts_client_renegotiation=True):
            yield kinds.CLIENT_RENEGOTIATION.finding(
                title="Client-initiated renegotiation accepted: a denial-of-service risk",
                evidence=(f"{result.successful_renegotiations} of {result.attempted_renegotiations} in a row",),
            )
        case ExtendedMasterSecretResult(supports_extended_master_secret=False):
            yield kinds.NO_EXTENDED_MASTER_SECRET.finding(
                title="No extended master secret (RFC 7627): triple handshake attacks",
                evidence=(f"not negotiated with {result.tested_version.label}",),
            )
        case FallbackSCSVResult(supports_fallback_scsv=False, tested_version=TLSVersion() as version):
            yield kinds.NO_FALLBACK_SCSV.finding(
                title="TLS_FALLBACK_SCSV not honoured: downgrades are possible",
                evidence=(f"a fallback to {version.label} was accepted",),
            )


_DH_GROUP_RULES: Final[tuple[tuple[FindingKind, str, Callable[[DHGroupAnalysis], bool]], ...]] = (
    (
        kinds.DH_COMPOSITE_MODULUS,
        "Diffie-Hellman modulus that is not prime: not a group at all, its logarithms split along its factors",
        lambda group: group.primality is Primality.COMPOSITE,
    ),
    (
        kinds.DH_SMALL_SUBGROUP,
        "Diffie-Hellman generator of a small subgroup: discrete logarithms are easy (Pohlig-Hellman)",
        lambda group: group.generator_order is GeneratorOrder.SMALL_SUBGROUP,
    ),
    (
        kinds.DH_COMMON_PRIME,
        "Widely shared Diffie-Hellman prime of 1024 bits or less: a precomputation target (Logjam, CVE-2015-4000)",
        lambda group: group.is_precomputation_target,
    ),
    (
        kinds.DH_NON_SAFE_PRIME,
        "Diffie-Hellman prime that is not a safe prime: small subgroups peers must rule out (CVE-2016-0701)",
        lambda group: (
            group.safe_prime is False
            and group.primality is Primality.PRIME
            and group.generator_order is not GeneratorOrder.SMALL_SUBGROUP
        ),
    ),
    (
        kinds.DH_FULL_GROUP_GENERATOR,
        "Diffie-Hellman generator of the whole group of a safe prime: one bit of each exponent leaks",
        lambda group: group.safe_prime is True and group.generator_order is GeneratorOrder.LARGE_WITH_COFACTOR,
    ),
)


def _dh_group_findings(result: ServerScanResult) -> Iterator[Finding]:
    groups = observed_dh_groups(result)
    for kind, title, select in _DH_GROUP_RULES:
        flawed = [group for group in groups if select(group.analysis)]
        if flawed:
            yield kind.finding(title=title, evidence=evidence_of(flawed))


def derive_findings(result: ServerScanResult) -> tuple[Finding, ...]:
    """Every finding the results support, most severe first."""
    found: list[Finding] = []
    completed = [outcome.result for outcome in result.checks if isinstance(outcome, CheckCompleted)]
    ciphers = [item for item in completed if isinstance(item, CipherSuitesResult)]
    found += _cipher_findings(ciphers)
    found += _dh_group_findings(result)
    for item in completed:
        if isinstance(item, CertificateResult):
            found += _certificate_findings(item)
        else:
            found += _feature_findings(item)
    order = list(Severity)
    return tuple(sorted(found, key=lambda finding: order.index(finding.severity)))
