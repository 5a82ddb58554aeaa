"""Judging a scan result against a policy: every deviation with its offending values, or why a rule could not be
judged. A rule whose check is missing or failed makes the verdict "incomplete", never "pass"."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from tlsprobe._model._assessment import Compliance, Deviation, Finding, Policy, UnevaluatedRule, Verdict, Vulnerability
from tlsprobe._model._results import ServerScanResult
from tlsprobe.checks.certificate import CertificateDeployment
from tlsprobe.checks.http_headers import HTTPHeadersResult
from tlsprobe.policy._catalogue import VULNERABILITY_KINDS
from tlsprobe.policy._dh_groups import evidence, is_sound_dh_group, observed_dh_groups
from tlsprobe.policy._findings import derive_findings
from tlsprobe.policy._observed import NotObserved, Observations
from tlsprobe.wire import EphemeralKeyKind
from tlsprobe.wire._versions import TLSVersion

# OpenSSL counts X25519 (and the X25519 half of hybrids) as 253 bits; it is a 255-bit curve of the same strength
# as P-256, which is what "256 bits" in Mozilla's guidelines means.
_X25519_BITS: Final = 253


def _ecdh_bits(size: int) -> int:
    return 256 if size == _X25519_BITS else size


def _deviation(rule: str, expected: str, found: Iterable[str]) -> Deviation | None:
    values = tuple(dict.fromkeys(found))
    return Deviation(rule=rule, expected=expected, found=values) if values else None


def _names(items: Iterable[str]) -> str:
    return ", ".join(sorted(items)) or "none"


def _protocol_versions(policy: Policy, seen: Observations) -> Deviation | None:
    accepted = seen.accepted_versions()
    found = [f"{version.label} accepted" for version in accepted if version not in policy.protocol_versions]
    highest = max(policy.protocol_versions)
    if highest not in accepted:
        found.append(f"{highest.label} not accepted")
    allowed = ", ".join(version.label for version in sorted(policy.protocol_versions))
    return _deviation("protocol_versions", f"{allowed}, including {highest.label}", found)


def _suites(policy: Policy, seen: Observations) -> list[Deviation | None]:
    deviations: list[Deviation | None] = []
    tls13 = [entry.cipher_suite.name for version, entry in seen.accepted_suites() if version is TLSVersion.TLS1_3]
    older = [
        f"{entry.cipher_suite.name} ({version.label})"
        for version, entry in seen.accepted_suites()
        if version is not TLSVersion.TLS1_3
        and (policy.cipher_suites is None or entry.cipher_suite.name not in policy.cipher_suites)
    ]
    if policy.tls1_3_cipher_suites is not None:
        allowed = policy.tls1_3_cipher_suites
        deviations.append(
            _deviation("tls1_3_cipher_suites", f"only {_names(allowed)}", (s for s in tls13 if s not in allowed))
        )
    if policy.cipher_suites is not None:
        deviations.append(_deviation("cipher_suites", f"only {_names(policy.cipher_suites)}", older))
    return deviations


def _groups(policy: Policy, seen: Observations) -> Deviation | None:
    if policy.groups is None:
        return None
    result = seen.groups()
    accepted = [
        f"{group.name} ({at.version.label})"
        for at in (result.tls1_3, result.ecdhe_below_tls1_3)
        if at is not None
        for group in at.accepted_groups
        if group.name not in policy.groups
    ]
    return _deviation("groups", f"only {_names(policy.groups)}", accepted)


def _key_sizes(policy: Policy, seen: Observations) -> list[Deviation | None]:
    small_dh: list[str] = []
    small_ecdh: list[str] = []
    for version, entry in seen.accepted_suites():
        key = entry.ephemeral_key
        if key is None:
            continue
        label = f"{entry.cipher_suite.name} ({version.label}): {key.size}-bit {key.kind.value}"
        if key.kind is EphemeralKeyKind.DH and policy.min_dh_size is not None and key.size < policy.min_dh_size:
            small_dh.append(label)
        if (
            key.kind is EphemeralKeyKind.ECDH
            and policy.min_ecdh_size is not None
            and _ecdh_bits(key.size) < policy.min_ecdh_size
        ):
            small_ecdh.append(label)
    return [
        _deviation("min_dh_size", f"DH groups of at least {policy.min_dh_size} bits", small_dh),
        _deviation("min_ecdh_size", f"EC groups of at least {policy.min_ecdh_size} bits", small_ecdh),
    ]


def _dh_groups(policy: Policy, seen: Observations) -> Deviation | None:
    """A policy that sizes DH groups wants sound ones: Mozilla's intermediate profile hands out ffdhe2048 (RFC 7919),
    its old one a group of one's own from ``openssl dhparam``: safe primes, a generator of the prime-order subgroup
    (or the whole group), and no prime of 1024 bits or less that many servers share."""
    if policy.min_dh_size is None:
        return None
    seen.cipher_results()  # NotObserved when an enumeration is missing: a group could be missing too
    unsound = [evidence(group) for group in observed_dh_groups(seen.result) if not is_sound_dh_group(group.analysis)]
    expected = "safe-prime DH groups of one's own or RFC 7919's, with a generator of a large subgroup"
    return _deviation("dh_groups", expected, unsound)


def _stapled(deployment: CertificateDeployment) -> bool:
    response = deployment.ocsp_stapling.response
    return response is not None and response.matches_leaf is True


def _certificates(policy: Policy, seen: Observations) -> list[Deviation | None]:
    found: dict[str, list[str]] = {}
    for deployment in seen.deployments():
        leaf = deployment.leaf
        who = leaf.subject
        lifespan = (leaf.not_after - leaf.not_before).days
        problems = {
            "certificate_key_types": policy.certificate_key_types is not None
            and leaf.key_type.value not in policy.certificate_key_types,
            "certificate_curves": policy.certificate_curves is not None
            and leaf.ec_curve is not None
            and leaf.ec_curve not in policy.certificate_curves,
            "certificate_signatures": policy.certificate_signatures is not None
            and leaf.signature_algorithm not in policy.certificate_signatures,
            "min_rsa_key_size": policy.min_rsa_key_size is not None
            and leaf.key_size is not None
            and leaf.key_type.value == "rsa"
            and leaf.key_size < policy.min_rsa_key_size,
            "max_certificate_lifespan_days": policy.max_certificate_lifespan_days is not None
            and lifespan > policy.max_certificate_lifespan_days,
            "ocsp_stapling": policy.ocsp_stapling
            and (
                deployment.ocsp_stapling.response is None or deployment.ocsp_stapling.response.matches_leaf is not True
            ),
            "trusted_certificate": policy.trusted_certificate
            and not (deployment.trusted and deployment.hostname.matched),
        }
        details = {
            "certificate_key_types": leaf.key_type.value,
            "certificate_curves": str(leaf.ec_curve),
            "certificate_signatures": leaf.signature_algorithm,
            "min_rsa_key_size": f"RSA {leaf.key_size}",
            "max_certificate_lifespan_days": f"{lifespan} days",
            "ocsp_stapling": "no OCSP response stapled",
            "trusted_certificate": "untrusted"
            if not deployment.trusted
            else f"not valid for {deployment.hostname.name}",
        }
        for rule, broken in problems.items():
            if broken:
                found.setdefault(rule, []).append(f"{who}: {details[rule]}")
    expected = {
        "certificate_key_types": f"leaf keys {_names(policy.certificate_key_types or ())}",
        "certificate_curves": f"curves {_names(policy.certificate_curves or ())}",
        "certificate_signatures": f"signatures {_names(policy.certificate_signatures or ())}",
        "min_rsa_key_size": f"RSA keys of at least {policy.min_rsa_key_size} bits",
        "max_certificate_lifespan_days": f"validity of at most {policy.max_certificate_lifespan_days} days",
        "ocsp_stapling": "a valid OCSP response stapled",
        "trusted_certificate": "a certificate trusted by a store and valid for the host name",
    }
    return [_deviation(rule, expected[rule], values) for rule, values in found.items()]


def _hsts(policy: Policy, seen: Observations) -> Deviation | None:
    if policy.hsts_min_age is None:
        return None
    result = seen.get("http_headers", HTTPHeadersResult)
    hsts = result.strict_transport_security
    if hsts is None:
        found = ["no Strict-Transport-Security header"]
    elif not hsts.valid or hsts.max_age is None:
        found = [f"invalid Strict-Transport-Security: {hsts.raw!r}"]
    elif hsts.max_age < policy.hsts_min_age:
        found = [f"max-age={hsts.max_age}"]
    else:
        found = []
    return _deviation("hsts_min_age", f"Strict-Transport-Security max-age of at least {policy.hsts_min_age}", found)


def _server_order(policy: Policy, seen: Observations) -> Deviation | None:
    if not policy.server_cipher_order:
        return None
    client_order = [result.version.label for result in seen.cipher_results() if result.server_order_enforced is False]
    return _deviation(
        "server_cipher_order", "the server's own cipher order", (f"client order with {v}" for v in client_order)
    )


def _vulnerability_deviation(
    vulnerability: Vulnerability, seen: Observations, findings: tuple[Finding, ...]
) -> Deviation | None:
    # The catalogue's kind says which check the vulnerability is read from and which findings say it is there.
    kind = VULNERABILITY_KINDS.get(vulnerability)
    if kind is None:
        raise NotObserved(f"no check of tlsprobe detects {vulnerability.value}")
    for check in kind.source_checks:
        seen.optional(check, object)  # NotObserved when the check is missing or failed
    found = [f"{f.title}: {'; '.join(f.evidence)}" for f in findings if f.id == kind.id]
    return _deviation(vulnerability.value, "absent", found)


def evaluate_policy(
    result: ServerScanResult, policy: Policy, *, findings: tuple[Finding, ...] | None = None
) -> Compliance:
    """Judge ``result`` against ``policy``; ``findings`` are ``derive_findings(result)``, derived when not given."""
    seen = Observations(result)
    findings = derive_findings(result) if findings is None else findings
    deviations: list[Deviation] = []
    unevaluated: list[UnevaluatedRule] = []

    def judge(rule: str, evaluate: Callable[[], Iterable[Deviation | None] | Deviation | None]) -> None:
        try:
            outcome = evaluate()
        except NotObserved as reason:
            unevaluated.append(UnevaluatedRule(rule=rule, reason=str(reason)))
            return
        items = [outcome] if outcome is None or isinstance(outcome, Deviation) else list(outcome)
        deviations.extend(item for item in items if item is not None)

    if result.connectivity.status == "failed":
        unevaluated.append(UnevaluatedRule(rule="*", reason="the server could not be scanned"))
    else:
        judge("protocol_versions", lambda: _protocol_versions(policy, seen))
        judge("cipher_suites", lambda: _suites(policy, seen))
        judge("groups", lambda: _groups(policy, seen))
        judge("key_exchange_sizes", lambda: _key_sizes(policy, seen))
        judge("dh_groups", lambda: _dh_groups(policy, seen))
        judge("certificate", lambda: _certificates(policy, seen))
        judge("hsts_min_age", lambda: _hsts(policy, seen))
        judge("server_cipher_order", lambda: _server_order(policy, seen))
        for vulnerability in sorted(policy.forbidden_vulnerabilities, key=lambda v: v.value):
            judge(
                vulnerability.value,
                lambda v=vulnerability: _vulnerability_deviation(v, seen, findings),  # type: ignore[misc]
            )
    if deviations:
        verdict = Verdict.FAIL
    elif unevaluated:
        verdict = Verdict.INCOMPLETE
    else:
        verdict = Verdict.PASS
    return Compliance(policy=policy.name, verdict=verdict, deviations=tuple(deviations), unevaluated=tuple(unevaluated))
