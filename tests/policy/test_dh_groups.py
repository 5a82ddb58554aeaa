"""DH groups from check results to findings, grade, policy verdict, JSON and report: results built here, offline.

The real servers that send such groups are in test_dh_groups_servers.py."""

from __future__ import annotations

import datetime
import json

import attrs
import pytest
from tests.scanning import completed_suites
from tests.servers.dh_params import DSA_STYLE_G, DSA_STYLE_P, SAFE_1024, SMALL_SUBGROUP_G, SMALL_SUBGROUP_P

from tlsprobe import ServerScanResult, ServerTarget
from tlsprobe._cli._render import render_server
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._results import (
    CheckCompleted,
    CheckOutcome,
    ClientAuthRequirement,
    ConnectivityCompleted,
    ProbeCost,
    ServerProfile,
)
from tlsprobe.checks import GroupsAtVersion, SupportedGroupsResult
from tlsprobe.checks.cipher_suites import AcceptedCipherSuite
from tlsprobe.policy import Severity, Verdict, derive_findings, evaluate_policy, grade, mozilla_profile
from tlsprobe.policy._assess import assess
from tlsprobe.policy._dh_groups import observed_dh_groups
from tlsprobe.wire import KNOWN_DH_GROUPS, EphemeralKey, EphemeralKeyKind, GeneratorOrder, ffdhe_prime
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import cipher_suite_by_name, named_group_by_name

_COST = ProbeCost(connections=1, retries=0, duration_s=0.0)
_FFDHE2048 = ffdhe_prime(0x0100) or 0
_OAKLEY2 = next(group.prime for group in KNOWN_DH_GROUPS if group.name == "oakley_group2")
_RFC5114 = next(group for group in KNOWN_DH_GROUPS if group.name == "rfc5114_2048_224")
_DH_IDS = {"dh_composite_modulus", "dh_small_subgroup", "dh_common_prime", "dh_non_safe_prime",
           "dh_full_group_generator"}  # fmt: skip


def _key(prime: int, generator: int) -> EphemeralKey:
    def encoded(value: int) -> bytes:
        return value.to_bytes((value.bit_length() + 7) // 8, "big")

    return EphemeralKey(
        kind=EphemeralKeyKind.DH,
        size=prime.bit_length(),
        group=None,
        public_key=b"\x05",
        dh_prime=encoded(prime),
        dh_generator=encoded(generator),
    )


def _dhe(name: str, prime: int, generator: int) -> AcceptedCipherSuite:
    suite = cipher_suite_by_name(name)
    assert suite is not None
    return AcceptedCipherSuite(cipher_suite=suite, ephemeral_key=_key(prime, generator))


def _server(*checks: CheckOutcome) -> ServerScanResult:
    given = {outcome.name for outcome in checks}
    missing = [completed_suites(version) for version in TLSVersion if f"{version.value}_cipher_suites" not in given]
    suite = cipher_suite_by_name("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256")
    assert suite is not None
    profile = ServerProfile(
        ip_address="127.0.0.1",
        port=443,
        server_name=None,
        highest_version=TLSVersion.TLS1_2,
        cipher_suite=suite,
        client_auth=ClientAuthRequirement.NOT_REQUESTED,
    )
    return ServerScanResult(
        target=ServerTarget(host="127.0.0.1"),
        connectivity=ConnectivityCompleted(profile=profile, cost=_COST),
        checks=(*missing, *checks),
        started_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        duration_s=0.0,
    )


def _dh_findings(result: ServerScanResult) -> dict[str, Severity]:
    return {finding.id: finding.severity for finding in derive_findings(result) if finding.id in _DH_IDS}


def test_each_group_is_judged_once_with_everywhere_it_was_seen() -> None:
    groups_check = SupportedGroupsResult(
        tls1_3=None,
        ecdhe_below_tls1_3=None,
        ffdhe_below_tls1_3=GroupsAtVersion(
            version=TLSVersion.TLS1_2,
            accepted_groups=tuple(g for name in ("ffdhe2048", "ffdhe3072") if (g := named_group_by_name(name))),
            server_order_enforced=True,
            rejected_groups=(),
        ),
    )
    result = _server(
        completed_suites(TLSVersion.TLS1_0, _dhe("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", SAFE_1024, 2)),
        completed_suites(
            TLSVersion.TLS1_2,
            _dhe("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", SAFE_1024, 2),
            _dhe("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", SAFE_1024, 2),
            _dhe("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", _FFDHE2048, 2),
        ),
        CheckCompleted(name="supported_groups", result=groups_check, cost=_COST),
    )
    custom, ffdhe2048, ffdhe3072 = observed_dh_groups(result)
    assert custom.analysis.known_group is None and custom.versions == (TLSVersion.TLS1_0, TLSVersion.TLS1_2)
    assert custom.cipher_suites == (
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    )
    assert custom.checks == ("tls1_0_cipher_suites", "tls1_2_cipher_suites")
    assert ffdhe2048.analysis.known_group == "ffdhe2048"
    assert ffdhe2048.checks == ("tls1_2_cipher_suites", "supported_groups")
    assert (ffdhe3072.analysis.known_group, ffdhe3072.cipher_suites) == ("ffdhe3072", ())
    # A clean unknown safe prime and the RFC 7919 groups: no DH finding, and no policy deviation for them.
    assert _dh_findings(result) == {}
    assert assess(result, None).dh_groups == (custom, ffdhe2048, ffdhe3072)


def test_a_broken_group_is_critical_and_fails_the_grade() -> None:
    composite = _FFDHE2048 * 3
    result = _server(
        completed_suites(
            TLSVersion.TLS1_2,
            _dhe("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", composite, 2),
            _dhe("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", _FFDHE2048, _FFDHE2048 - 1),
        )
    )
    assert _dh_findings(result) == {
        "dh_composite_modulus": Severity.CRITICAL,
        "dh_small_subgroup": Severity.CRITICAL,
    }
    findings = derive_findings(result)
    composite_finding = next(f for f in findings if f.id == "dh_composite_modulus")
    (line,) = composite_finding.evidence
    assert "custom 2050-bit group" in line and "NOT PRIME" in line
    assert "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" in line and "TLS 1.2" in line
    graded = grade(result, findings=findings)
    assert graded.grade == "F"
    assert ("F", composite_finding.title) in {(cap.grade, cap.reason) for cap in graded.caps}


def test_shared_non_safe_and_full_group_generators() -> None:
    non_residue = next(g for g in range(3, 50) if pow(g, (_FFDHE2048 - 1) // 2, _FFDHE2048) != 1)
    result = _server(
        completed_suites(TLSVersion.TLS1_1, _dhe("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", _OAKLEY2, 2)),
        completed_suites(
            TLSVersion.TLS1_2,
            _dhe("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", _RFC5114.prime, _RFC5114.generator or 0),
            _dhe("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", _FFDHE2048, non_residue),
        ),
    )
    assert _dh_findings(result) == {
        "dh_common_prime": Severity.HIGH,
        "dh_non_safe_prime": Severity.MEDIUM,
        "dh_full_group_generator": Severity.LOW,
    }
    common = next(f for f in derive_findings(result) if f.id == "dh_common_prime")
    assert common.evidence == (
        "RFC 2409 1024-bit MODP group (Oakley group 2): 1024-bit safe prime, g=2 generates the 1023-bit "
        "prime-order subgroup (TLS_DHE_RSA_WITH_AES_128_CBC_SHA; TLS 1.1)",
    )
    caps = {(cap.grade, cap.reason) for cap in grade(result).caps}
    assert ("C", common.title) in caps


@pytest.mark.slow  # two 2048-bit primes no table knows: 0.6 s
def test_unknown_non_safe_primes_small_subgroup_or_unknown_order() -> None:
    result = _server(
        completed_suites(
            TLSVersion.TLS1_2,
            _dhe("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", SMALL_SUBGROUP_P, SMALL_SUBGROUP_G),
            _dhe("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", DSA_STYLE_P, DSA_STYLE_G),
        )
    )
    small, dsa_style = observed_dh_groups(result)
    assert small.analysis.generator_order is GeneratorOrder.SMALL_SUBGROUP
    assert dsa_style.analysis.generator_order is GeneratorOrder.UNKNOWN
    assert _dh_findings(result) == {"dh_small_subgroup": Severity.CRITICAL, "dh_non_safe_prime": Severity.MEDIUM}


def test_mozillas_profiles_want_sound_groups() -> None:
    old = mozilla_profile("old")
    clean = _server(completed_suites(TLSVersion.TLS1_2, _dhe("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", SAFE_1024, 2)))
    assert "dh_groups" not in {d.rule for d in evaluate_policy(clean, old).deviations}
    shared = _server(completed_suites(TLSVersion.TLS1_2, _dhe("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", _OAKLEY2, 2)))
    (deviation,) = [d for d in evaluate_policy(shared, old).deviations if d.rule == "dh_groups"]
    assert deviation.found[0].startswith("RFC 2409 1024-bit MODP group (Oakley group 2)")
    rfc5114 = _server(
        completed_suites(
            TLSVersion.TLS1_2, _dhe("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", _RFC5114.prime, _RFC5114.generator or 0)
        )
    )
    assert "dh_groups" in {d.rule for d in evaluate_policy(rfc5114, old).deviations}
    # A policy that does not size DH groups does not judge them; a missing enumeration leaves the rule unevaluated.
    unsized = attrs.evolve(old, min_dh_size=None)
    assert "dh_groups" not in {d.rule for d in evaluate_policy(shared, unsized).deviations}
    without = attrs.evolve(shared, checks=tuple(o for o in shared.checks if o.name != "tls1_0_cipher_suites"))
    verdict = evaluate_policy(without, old)
    assert "dh_groups" in {u.rule for u in verdict.unevaluated}
    assert verdict.verdict is not Verdict.PASS


def test_the_json_and_the_report_carry_the_analysis() -> None:
    result = assess(
        _server(completed_suites(TLSVersion.TLS1_2, _dhe("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", _FFDHE2048 * 3, 2))),
        None,
    )
    document = json.loads(json.dumps(to_jsonable(result)))
    (group,) = document["dh_groups"]
    assert group["analysis"]["primality"] == "composite"
    assert group["analysis"]["generator"] == 2 and group["analysis"]["prime_bits"] == 2050
    assert group["versions"] == ["tls1_2"] and group["cipher_suites"] == ["TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"]
    report = render_server(result)
    assert "DH groups" in report and "NOT PRIME" in report
