"""Judgements of a scan result: what a policy asks for, its verdict, findings and the grade.

Plain records with no knowledge of the checks (``tlsprobe.policy`` computes them), so that the scan result can carry
them without an import cycle.
"""

from __future__ import annotations

import enum
from typing import Final, final

import attrs

from tlsprobe.wire._versions import TLSVersion


class Vulnerability(enum.Enum):
    """A weakness a policy can forbid; each is read from one check's result."""

    HEARTBLEED = "heartbleed"
    OPENSSL_CCS_INJECTION = "openssl_ccs_injection"
    ROBOT = "robot"
    """A weak or strong Bleichenbacher oracle."""
    INSECURE_RENEGOTIATION = "insecure_renegotiation"
    """No RFC 5746 secure renegotiation."""
    CLIENT_RENEGOTIATION = "client_renegotiation"
    """Client-initiated renegotiation accepted."""
    COMPRESSION = "compression"
    """TLS compression (CRIME)."""
    NO_FALLBACK_SCSV = "no_fallback_scsv"
    """A downgrade accepted despite TLS_FALLBACK_SCSV."""
    NO_EXTENDED_MASTER_SECRET = "no_extended_master_secret"
    """No RFC 7627 extended master secret."""


@final
@attrs.frozen(kw_only=True)
class Policy:
    """A TLS configuration policy: Mozilla's profiles and custom ones share this shape (and its JSON format)."""

    name: str
    """A short name: ``mozilla-intermediate``."""
    description: str
    """What it is, for people."""
    source: str | None
    """Where its values come from (Mozilla's guidelines URL for the built-in profiles)."""
    protocol_versions: frozenset[TLSVersion]
    """The versions allowed; any other accepted version is a deviation."""
    tls1_3_cipher_suites: frozenset[str] | None
    """IANA names of the TLS 1.3 suites allowed; None: not checked."""
    cipher_suites: frozenset[str] | None
    """IANA names of the suites allowed below TLS 1.3; None: not checked."""
    groups: frozenset[str] | None
    """Key-exchange groups allowed (catalogue names: ``x25519``, ``secp256r1``, ``X25519MLKEM768``); None: not
    checked."""
    certificate_key_types: frozenset[str] | None
    """Leaf key types allowed (``rsa``, ``ec``, ``ed25519``...); None: not checked."""
    certificate_curves: frozenset[str] | None
    """Curves allowed for EC leaf keys (``secp256r1``); None: not checked."""
    certificate_signatures: frozenset[str] | None
    """Leaf signature algorithms allowed (``sha256WithRSAEncryption``, ``ecdsa-with-SHA256``); None: not checked."""
    min_rsa_key_size: int | None
    """Smallest RSA leaf key allowed, in bits; None: not checked."""
    max_certificate_lifespan_days: int | None
    """Longest validity period allowed for a leaf; None: not checked."""
    min_dh_size: int | None
    """Smallest finite-field DH group accepted, in bits; None: not checked."""
    min_ecdh_size: int | None
    """Smallest elliptic-curve group accepted, in bits; None: not checked."""
    hsts_min_age: int | None
    """Least Strict-Transport-Security max-age required of HTTP servers, in seconds; None: not required."""
    ocsp_stapling: bool
    """An OCSP response must be stapled."""
    server_cipher_order: bool
    """The server must choose suites by its own order of preference."""
    trusted_certificate: bool
    """Every certificate must be trusted by a store and valid for the host name."""
    forbidden_vulnerabilities: frozenset[Vulnerability]
    """Weaknesses that must be absent."""


class Verdict(enum.Enum):
    """The outcome of judging a server against a policy."""

    PASS = "pass"
    """Every rule was evaluated and none was broken."""
    FAIL = "fail"
    """At least one rule is broken."""
    INCOMPLETE = "incomplete"
    """No rule is broken among those evaluated, but some could not be (a check did not run or failed): never a
    pass by default."""


@final
@attrs.frozen(kw_only=True)
class Deviation:
    """One rule the server breaks, with the offending values."""

    rule: str
    """The policy field broken: ``protocol_versions``, ``cipher_suites``, ``min_dh_size``..."""
    expected: str
    """What the policy asks for."""
    found: tuple[str, ...]
    """The concrete values that break it: each version, suite, group, certificate..."""


@final
@attrs.frozen(kw_only=True)
class UnevaluatedRule:
    """A rule that could not be evaluated, and why."""

    rule: str
    """The policy field."""
    reason: str
    """Which check is missing, failed or did not apply."""


@final
@attrs.frozen(kw_only=True)
class Compliance:
    """A server judged against one policy."""

    policy: str
    """The policy's name."""
    verdict: Verdict
    """Pass, fail or incomplete."""
    deviations: tuple[Deviation, ...]
    """Every rule broken."""
    unevaluated: tuple[UnevaluatedRule, ...]
    """Rules that could not be evaluated."""


GRADES: Final = ("A+", "A", "A-", "B", "C", "D", "E", "F")
"""Every letter grade, best first."""


class Severity(enum.Enum):
    """How bad a finding is."""

    CRITICAL = "critical"
    """Exploitable now: data or keys can leak."""
    HIGH = "high"
    """A broken protocol, cipher or certificate that attackers can use."""
    MEDIUM = "medium"
    """Deprecated or weak, not directly exploitable."""
    LOW = "low"
    """Hardening that is missing."""


@final
@attrs.frozen(kw_only=True)
class Finding:
    """Something wrong with the server, in plain words, with the evidence from the results."""

    id: str
    """A stable identifier: ``sweet32``, ``heartbleed``, ``certificate_untrusted``..."""
    severity: Severity
    """How bad it is."""
    title: str
    """One sentence for people."""
    evidence: tuple[str, ...]
    """The observations it rests on (suites, versions, certificates...)."""


@final
@attrs.frozen(kw_only=True)
class GradeCap:
    """A rule that limits the grade, and why it applied."""

    grade: str
    """The best grade allowed."""
    reason: str
    """What in the results triggered it."""


@final
@attrs.frozen(kw_only=True)
class Grade:
    """A letter grade in the spirit of SSL Labs' rating guide (see docs/grading.md)."""

    grade: str
    """``A+``, ``A``, ``A-``, ``B``, ``C``, ``D``, ``E`` or ``F``; ``?`` when a needed check did not complete."""
    score: int | None
    """The 0-100 score before caps (protocols 30 %, key exchange 30 %, cipher strength 40 %); None when unknown."""
    protocol_score: int | None
    """Mean of the best and worst protocol's scores."""
    key_exchange_score: int | None
    """The weakest key exchange's score."""
    cipher_score: int | None
    """Mean of the strongest and weakest cipher's scores."""
    caps: tuple[GradeCap, ...]
    """Every cap that applied (the grade is the lowest of them and of the score's letter)."""
    missing: tuple[str, ...]
    """Checks whose results the grade needed and did not get."""
