"""A letter grade from A+ to F, in the spirit of SSL Labs' published rating guide (docs/grading.md has the rules).

A score from 0 to 100 weighs protocol support (30 %), key exchange strength (30 %) and cipher strength (40 %) and
gives a letter; then caps lower it for what no score should hide (SSL 2.0, Heartbleed, an untrusted certificate).
The grade is the lowest of the score's letter and every cap, each cap with its reason. Without the cipher-suite
results there is no grade (``?``): a scan that did not happen never earns one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from tlsprobe._model._assessment import GRADES, Finding, Grade, GradeCap
from tlsprobe._model._results import ServerScanResult
from tlsprobe.checks.http_headers import HTTPHeadersResult
from tlsprobe.policy._catalogue import finding_kind
from tlsprobe.policy._findings import derive_findings
from tlsprobe.policy._observed import NotObserved, Observations
from tlsprobe.wire import EphemeralKeyKind
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import KeyExchange

_PROTOCOL_SCORES: Final = {
    TLSVersion.SSL2: 0,
    TLSVersion.SSL3: 80,
    TLSVersion.TLS1_0: 90,
    TLSVersion.TLS1_1: 95,
    TLSVersion.TLS1_2: 100,
    TLSVersion.TLS1_3: 100,
}
_LETTERS: Final = ((80, "A"), (65, "B"), (50, "C"), (35, "D"), (20, "E"))
_SIX_MONTHS_S: Final = 15_552_000


def _key_exchange_strength(bits: int) -> int:
    """The score of an RSA-equivalent key exchange strength."""
    for limit, score in ((512, 20), (1024, 40), (2048, 80), (4096, 90)):
        if bits < limit:
            return score
    return 100


def _rsa_equivalent(kind: EphemeralKeyKind, size: int) -> int:
    if kind is not EphemeralKeyKind.ECDH:
        return size
    # NIST SP 800-57 comparable strengths: 224-bit EC ~ RSA 2048, 256 ~ 3072, 384 ~ 7680 (X25519: 253 bits).
    for ec_bits, rsa_bits in ((384, 7680), (253, 3072), (224, 2048), (160, 1024)):
        if size >= ec_bits:
            return rsa_bits
    return 512


def _cipher_strength(bits: int) -> int:
    if bits == 0:
        return 0
    if bits < 128:
        return 20
    return 80 if bits < 256 else 100


def _weakest_key_exchange(seen: Observations) -> int:
    """The weakest key exchange among the accepted suites, as a score; RSA key exchange uses the leaf's key."""
    strengths: list[int] = []
    rsa_leaves: list[int] | None = None
    for _, entry in seen.accepted_suites():
        suite, key = entry.cipher_suite, entry.ephemeral_key
        if suite.is_anonymous:
            strengths.append(0)
        elif key is not None:
            strengths.append(_key_exchange_strength(_rsa_equivalent(key.kind, key.size)))
        elif suite.key_exchange is KeyExchange.RSA:
            if rsa_leaves is None:
                rsa_leaves = [
                    d.leaf.key_size for d in seen.deployments() if d.leaf.key_type.value == "rsa" and d.leaf.key_size
                ]
            strengths += [_key_exchange_strength(512 if suite.is_export else bits) for bits in rsa_leaves]
    if not strengths:
        raise NotObserved("no key exchange was observed")
    return min(strengths)


def _caps(findings: tuple[Finding, ...]) -> Iterator[GradeCap]:
    """Every cap comes from a finding (TLS 1.3 missing, no forward secrecy, no AEAD suite included), so that the
    report, the exit status and the grade tell one story."""
    for finding in findings:
        # An undeclared id or severity raises: guessing would be a silently wrong grade.
        cap = finding_kind(finding.id).grade_cap(finding.severity)
        if cap is not None:
            yield GradeCap(grade=cap, reason=finding.title)


def _hsts_earns_plus(seen: Observations) -> bool:
    try:
        headers = seen.optional("http_headers", HTTPHeadersResult)
    except NotObserved:
        return False
    hsts = headers.strict_transport_security if headers is not None else None
    return hsts is not None and hsts.valid and (hsts.max_age or 0) >= _SIX_MONTHS_S


def grade(result: ServerScanResult, *, findings: tuple[Finding, ...] | None = None) -> Grade:
    """The grade of one server's results; ``findings`` are ``derive_findings(result)``, derived when not given.

    Each finding caps the grade as its kind in the findings catalogue says (``KeyError`` for an undeclared id).
    """
    seen = Observations(result)
    findings = derive_findings(result) if findings is None else findings

    def unknown(missing: str) -> Grade:
        return Grade(
            grade="?",
            score=None,
            protocol_score=None,
            key_exchange_score=None,
            cipher_score=None,
            caps=(),
            missing=(missing,),
        )

    if result.connectivity.status == "failed":
        return unknown("the server could not be scanned")
    try:
        versions = seen.accepted_versions()
        protocol = (max(_PROTOCOL_SCORES[v] for v in versions) + min(_PROTOCOL_SCORES[v] for v in versions)) // 2
        ciphers = [_cipher_strength(entry.cipher_suite.key_size) for _, entry in seen.accepted_suites()]
        cipher = (max(ciphers) + min(ciphers)) // 2
        key_exchange = _weakest_key_exchange(seen)
        caps = tuple(_caps(findings))
    except NotObserved as missing:
        return unknown(str(missing))
    score = round(0.3 * protocol + 0.3 * key_exchange + 0.4 * cipher)
    letter = next((letter for limit, letter in _LETTERS if score >= limit), "F")
    worst = max([GRADES.index(letter), *(GRADES.index(cap.grade) for cap in caps)])
    final = GRADES[worst]
    if final == "A" and _hsts_earns_plus(seen):
        final = "A+"
    return Grade(
        grade=final,
        score=score,
        protocol_score=protocol,
        key_exchange_score=key_exchange,
        cipher_score=cipher,
        caps=caps,
        missing=(),
    )
