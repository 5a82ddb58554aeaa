"""The findings catalogue: every kind of finding declared once, with its severity, grade cap, vulnerability and
the checks it is derived from.

A finding's id is public (the JSON carries it, and the grade and the policy read it). Declaring each id once, with
everything keyed on it, keeps a renamed id from silently changing a grade: the producers in ``_findings`` build
findings only through a ``FindingKind``, ``_grade`` reads the cap from it, ``_compliance`` the check a forbidden
vulnerability is read from; ``tests/policy/test_catalogue.py`` fails on any id used and not declared here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, final

import attrs

from tlsprobe._model._assessment import GRADES, Finding, Severity, Vulnerability


def _frozen_caps(caps: Mapping[Severity, str | None]) -> Mapping[Severity, str | None]:
    return MappingProxyType(dict(caps))


def _check_caps(
    _: object, __: attrs.Attribute[Mapping[Severity, str | None]], caps: Mapping[Severity, str | None]
) -> None:
    if not caps:
        raise ValueError("a finding kind needs at least one severity")
    invalid = [cap for cap in caps.values() if cap is not None and cap not in GRADES]
    if invalid:
        raise ValueError(f"grade caps must be one of {GRADES}: {invalid}")


@final
@attrs.frozen(kw_only=True, eq=False)  # declared once each: a kind is equal only to itself
class FindingKind:
    """One kind of finding: what it is called, how bad it is, what it does to the grade, where it comes from."""

    id: str = attrs.field(validator=attrs.validators.min_len(1))
    """The stable identifier its findings carry: ``sweet32``, ``heartbleed``, ``certificate_untrusted``..."""
    grade_caps: Mapping[Severity, str | None] = attrs.field(converter=_frozen_caps, validator=_check_caps)
    """Every severity a finding of this kind is emitted with, and the best grade it then allows (None: no cap).
    Most kinds have one severity; ROBOT and LOGJAM are high or medium depending on the evidence, and cap
    accordingly."""
    vulnerability: Vulnerability | None
    """The weakness a policy forbids by this finding (``forbidden_vulnerabilities``), if any."""
    source_checks: tuple[str, ...] = attrs.field(validator=attrs.validators.min_len(1))
    """The names of the checks whose results it is derived from."""

    @property
    def severities(self) -> tuple[Severity, ...]:
        """The severities it is emitted with, most severe first."""
        return tuple(severity for severity in Severity if severity in self.grade_caps)

    def grade_cap(self, severity: Severity) -> str | None:
        """The best grade a finding of this kind and ``severity`` allows; None: it does not cap the grade."""
        try:
            return self.grade_caps[severity]
        except KeyError:
            raise ValueError(f"a {self.id} finding is never {severity.value}") from None

    def finding(self, *, title: str, evidence: tuple[str, ...], severity: Severity | None = None) -> Finding:
        """A finding of this kind; ``severity`` is required (and must be declared) when the kind has several."""
        if severity is None:
            if len(self.grade_caps) != 1:
                raise ValueError(f"a {self.id} finding needs one of the severities {self.severities}")
            (severity,) = self.grade_caps
        self.grade_cap(severity)  # ValueError for a severity the catalogue does not declare
        return Finding(id=self.id, severity=severity, title=title, evidence=evidence)


_DECLARED: dict[str, FindingKind] = {}


def _declare(
    finding_id: str,
    grade_caps: Mapping[Severity, str | None],
    *,
    checks: tuple[str, ...],
    vulnerability: Vulnerability | None = None,
) -> FindingKind:
    if finding_id in _DECLARED:
        raise ValueError(f"the finding {finding_id!r} is declared twice")
    kind = FindingKind(id=finding_id, grade_caps=grade_caps, vulnerability=vulnerability, source_checks=checks)
    _DECLARED[finding_id] = kind
    return kind


_CRITICAL, _HIGH, _MEDIUM, _LOW = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW
# The cipher-suite checks, one per version (CipherSuitesCheck.name); most cipher findings read all of them.
_SSL2, _SSL3, _TLS1_0, _TLS1_1 = (
    "ssl2_cipher_suites",
    "ssl3_cipher_suites",
    "tls1_0_cipher_suites",
    "tls1_1_cipher_suites",
)
_ALL_SUITES: Final = (_SSL2, _SSL3, _TLS1_0, _TLS1_1, "tls1_2_cipher_suites", "tls1_3_cipher_suites")
_CERTIFICATE: Final = ("certificate",)

# Protocol versions and cipher suites.
DROWN: Final = _declare("drown", {_HIGH: "F"}, checks=(_SSL2,))
SSLV3: Final = _declare("sslv3", {_HIGH: "C"}, checks=(_SSL3,))
TLS1_0: Final = _declare("tls1_0", {_MEDIUM: "B"}, checks=(_TLS1_0,))
TLS1_1: Final = _declare("tls1_1", {_MEDIUM: "B"}, checks=(_TLS1_1,))
POODLE: Final = _declare("poodle", {_HIGH: "C"}, checks=(_SSL3,))
ANONYMOUS: Final = _declare("anonymous", {_HIGH: "F"}, checks=_ALL_SUITES)
NULL_CIPHER: Final = _declare("null_cipher", {_HIGH: "F"}, checks=_ALL_SUITES)
EXPORT: Final = _declare("export", {_HIGH: "F"}, checks=_ALL_SUITES)
FREAK: Final = _declare("freak", {_HIGH: "F"}, checks=_ALL_SUITES)
RC4: Final = _declare("rc4", {_HIGH: "C"}, checks=_ALL_SUITES)
SWEET32: Final = _declare("sweet32", {_MEDIUM: "C"}, checks=_ALL_SUITES)
BEAST: Final = _declare("beast", {_LOW: None}, checks=(_SSL3, _TLS1_0))
# High when a group is under 1024 bits or export-grade (broken), medium for 1024 to 2047 bits.
LOGJAM: Final = _declare("logjam", {_HIGH: "F", _MEDIUM: "B"}, checks=_ALL_SUITES)
# The finite-field groups of DHE answers, judged beyond their size (wire/_dh_groups.py). A modulus that is not prime,
# or a generator of a small (smooth-order) subgroup, makes discrete logarithms easy whatever the size: as broken as
# no key exchange at all. A widely shared prime of at most 1024 bits is a precomputation target (Logjam).
DH_COMPOSITE_MODULUS: Final = _declare("dh_composite_modulus", {_CRITICAL: "F"}, checks=_ALL_SUITES)
DH_SMALL_SUBGROUP: Final = _declare("dh_small_subgroup", {_CRITICAL: "F"}, checks=_ALL_SUITES)
DH_COMMON_PRIME: Final = _declare("dh_common_prime", {_HIGH: "C"}, checks=_ALL_SUITES)
# Not a safe prime (RFC 5114, DSA-style or unknown groups): small subgroups a peer's key can be pushed into, which
# TLS cannot rule out (it does not carry q); with reused exponents that recovers the key (CVE-2016-0701).
DH_NON_SAFE_PRIME: Final = _declare("dh_non_safe_prime", {_MEDIUM: "B"}, checks=_ALL_SUITES)
# A safe prime whose generator is a non-square: it generates the whole group, and one bit of each exponent leaks.
DH_FULL_GROUP_GENERATOR: Final = _declare("dh_full_group_generator", {_LOW: None}, checks=_ALL_SUITES)
# What the configuration lacks rather than what it accepts: each caps the grade, so each is a finding too.
NO_TLS1_3: Final = _declare("no_tls1_3", {_LOW: "A-"}, checks=("tls1_3_cipher_suites",))
NO_FORWARD_SECRECY: Final = _declare("no_forward_secrecy", {_MEDIUM: "B"}, checks=_ALL_SUITES)
NO_AEAD: Final = _declare("no_aead", {_MEDIUM: "B"}, checks=_ALL_SUITES)

# Certificates.
CERTIFICATE_UNTRUSTED: Final = _declare("certificate_untrusted", {_HIGH: "F"}, checks=_CERTIFICATE)
CERTIFICATE_HOSTNAME_MISMATCH: Final = _declare("certificate_hostname_mismatch", {_HIGH: "F"}, checks=_CERTIFICATE)
CERTIFICATE_VALIDITY: Final = _declare("certificate_validity", {_HIGH: "F"}, checks=_CERTIFICATE)
CERTIFICATE_WEAK_KEY: Final = _declare("certificate_weak_key", {_HIGH: "F"}, checks=_CERTIFICATE)
CERTIFICATE_SHA1: Final = _declare("certificate_sha1", {_MEDIUM: "B"}, checks=_CERTIFICATE)
# MD5 (or MD2, MD4) signatures: forgeable by chosen-prefix collisions, as the 2008 rogue CA showed.
CERTIFICATE_WEAK_SIGNATURE: Final = _declare("certificate_weak_signature", {_HIGH: "F"}, checks=_CERTIFICATE)
CERTIFICATE_REVOKED: Final = _declare("certificate_revoked", {_CRITICAL: "F"}, checks=_CERTIFICATE)
MUST_STAPLE_VIOLATED: Final = _declare("must_staple_violated", {_MEDIUM: "A-"}, checks=_CERTIFICATE)

# Protocol features and implementation flaws.
HEARTBLEED: Final = _declare(
    "heartbleed", {_CRITICAL: "F"}, checks=("heartbleed",), vulnerability=Vulnerability.HEARTBLEED
)
OPENSSL_CCS_INJECTION: Final = _declare(
    "openssl_ccs_injection",
    {_HIGH: "F"},
    checks=("openssl_ccs_injection",),
    vulnerability=Vulnerability.OPENSSL_CCS_INJECTION,
)
# High for a strong Bleichenbacher oracle, medium for a weak one.
ROBOT: Final = _declare("robot", {_HIGH: "F", _MEDIUM: "B"}, checks=("robot",), vulnerability=Vulnerability.ROBOT)
COMPRESSION: Final = _declare(
    "compression", {_MEDIUM: "C"}, checks=("tls_compression",), vulnerability=Vulnerability.COMPRESSION
)
INSECURE_RENEGOTIATION: Final = _declare(
    "insecure_renegotiation",
    {_MEDIUM: "C"},
    checks=("secure_renegotiation",),
    vulnerability=Vulnerability.INSECURE_RENEGOTIATION,
)
CLIENT_RENEGOTIATION: Final = _declare(
    "client_renegotiation",
    {_MEDIUM: "B"},
    checks=("client_renegotiation",),
    vulnerability=Vulnerability.CLIENT_RENEGOTIATION,
)
NO_EXTENDED_MASTER_SECRET: Final = _declare(
    "no_extended_master_secret",
    {_MEDIUM: "A-"},
    checks=("extended_master_secret",),
    vulnerability=Vulnerability.NO_EXTENDED_MASTER_SECRET,
)
NO_FALLBACK_SCSV: Final = _declare(
    "no_fallback_scsv", {_MEDIUM: "A-"}, checks=("fallback_scsv",), vulnerability=Vulnerability.NO_FALLBACK_SCSV
)

FINDINGS: Final[Mapping[str, FindingKind]] = MappingProxyType(_DECLARED)
"""Every finding kind by id, in declaration order."""

UNMAPPED_VULNERABILITIES: Final[frozenset[Vulnerability]] = frozenset()
"""Vulnerabilities no finding reads (a policy forbidding one is then "incomplete"); every other member of
``Vulnerability`` is the ``vulnerability`` of exactly one kind."""


def _by_vulnerability() -> Mapping[Vulnerability, FindingKind]:
    kinds: dict[Vulnerability, FindingKind] = {}
    for kind in FINDINGS.values():
        if kind.vulnerability is None:
            continue
        if kind.vulnerability in kinds:
            raise ValueError(f"{kind.vulnerability} is the vulnerability of two findings")
        kinds[kind.vulnerability] = kind
    return MappingProxyType(kinds)


VULNERABILITY_KINDS: Final = _by_vulnerability()
"""The finding kind of each vulnerability a policy can forbid (all but ``UNMAPPED_VULNERABILITIES``)."""


def finding_kind(finding_id: str) -> FindingKind:
    """The kind declared for ``finding_id``; ``KeyError`` when it is not declared."""
    return FINDINGS[finding_id]
