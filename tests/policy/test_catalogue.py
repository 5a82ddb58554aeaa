"""The findings catalogue ties every finding id to its severity, grade cap, vulnerability and checks: nothing may use
an id it does not declare, and everything it declares must be real (checks in the registry, letters of the grade).

Offline: the producers are driven with check results built here, the certificates analysed from tests.trust's PKI.
"""

from __future__ import annotations

import ast
import datetime
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from tests.scanning import completed_suites
from tests.trust import NOW, Issued, issue, ocsp_response_der, trust_pki

import tlsprobe
from tlsprobe import ServerScanResult, ServerTarget
from tlsprobe._model._results import (
    CheckCompleted,
    CheckOutcome,
    ClientAuthRequirement,
    ConnectivityCompleted,
    ProbeCost,
    ServerProfile,
)
from tlsprobe.checks import DEFAULT_CHECKS, CertificateResult, CertificateRetrieval, OfferedKeyType, WithoutSNI
from tlsprobe.checks._certificate_retrieval import RetrievedChain
from tlsprobe.checks.ccs_injection import CCSInjectionResult
from tlsprobe.checks.certificate import analyse_deployment
from tlsprobe.checks.cipher_suites import AcceptedCipherSuite
from tlsprobe.checks.client_renegotiation import ClientRenegotiationResult
from tlsprobe.checks.compression import CompressionResult
from tlsprobe.checks.extensions import ExtendedMasterSecretResult, SecureRenegotiationResult
from tlsprobe.checks.fallback_scsv import FallbackSCSVResult
from tlsprobe.checks.heartbleed import HeartbleedResult
from tlsprobe.checks.robot import RobotResponse, RobotResult, RobotVerdict
from tlsprobe.policy import (
    Severity,
    Verdict,
    Vulnerability,
    _catalogue,
    derive_findings,
    evaluate_policy,
    grade,
    mozilla_profile,
)
from tlsprobe.policy._catalogue import (
    FINDINGS,
    GRADES,
    UNMAPPED_VULNERABILITIES,
    VULNERABILITY_KINDS,
    FindingKind,
    finding_kind,
)
from tlsprobe.trust import mozilla_store
from tlsprobe.wire import KNOWN_DH_GROUPS, EphemeralKey, EphemeralKeyKind, ffdhe_prime
from tlsprobe.wire._rsa_kex import PaddingVariant
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import SSL2_CIPHER_SUITES, CipherSuite, cipher_suite_by_name

_SOURCE = Path(tlsprobe.__file__).parent
_CATALOGUE_MODULE = "tlsprobe.policy._catalogue"


# --- every id used is declared (static) ----------------------------------------------------------------------------


def _strings(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        for item in node.elts:
            yield from _strings(item)


def _is_name(node: ast.expr, name: str) -> bool:
    """``name`` or ``anything.name``."""
    return (isinstance(node, ast.Name) and node.id == name) or (isinstance(node, ast.Attribute) and node.attr == name)


def _uses(tree: ast.Module) -> Iterator[tuple[int, str, str | None]]:
    """Every reference to a finding in one module: (line, what the code says, the id it names; None when it names
    a catalogue attribute that does not exist)."""
    aliases: set[str] = set()  # names bound to the catalogue module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "tlsprobe.policy":
            aliases |= {alias.asname or alias.name for alias in node.names if alias.name == "_catalogue"}
        elif isinstance(node, ast.Import):
            aliases |= {alias.asname or alias.name for alias in node.names if alias.name == _CATALOGUE_MODULE}

    def constants(line: int, name: str, said: str) -> Iterator[tuple[int, str, str | None]]:
        if not hasattr(_catalogue, name):
            yield line, said, None
        elif isinstance(kind := getattr(_catalogue, name), FindingKind):
            yield line, said, kind.id  # other attributes (FINDINGS, GRADES...) name no finding

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == _CATALOGUE_MODULE:
            for alias in node.names:
                yield from constants(node.lineno, alias.name, f"import {alias.name}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            yield from constants(node.lineno, node.attr, f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Compare):  # finding.id == "robot", finding.id in ("robot", "logjam")
            operands = [node.left, *node.comparators]
            if any(isinstance(operand, ast.Attribute) and operand.attr == "id" for operand in operands):
                for operand in operands:
                    yield from ((node.lineno, f".id vs {text!r}", text) for text in _strings(operand))
        elif isinstance(node, ast.Call):
            if _is_name(node.func, "Finding"):
                for keyword in node.keywords:
                    if keyword.arg == "id":
                        yield from ((node.lineno, f"Finding(id={t!r})", t) for t in _strings(keyword.value))
            lookup = (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and _is_name(node.func.value, "FINDINGS")
            )
            if lookup or _is_name(node.func, "finding_kind"):
                yield from ((node.lineno, f"lookup {t!r}", t) for arg in node.args[:1] for t in _strings(arg))
        elif isinstance(node, ast.Subscript) and _is_name(node.value, "FINDINGS"):
            yield from ((node.lineno, f"FINDINGS[{t!r}]", t) for t in _strings(node.slice))


def _scanned() -> list[Path]:
    return sorted([*(_SOURCE / "policy").glob("*.py"), *(_SOURCE / "_cli").rglob("*.py")])


def _all_uses() -> list[tuple[str, str, str | None]]:
    return [
        (f"{path.relative_to(_SOURCE)}:{line}", said, finding_id)
        for path in _scanned()
        for line, said, finding_id in _uses(ast.parse(path.read_text(encoding="utf-8")))
    ]


def test_every_finding_id_the_code_uses_is_declared() -> None:
    uses = _all_uses()
    undeclared = [f"{where} {said}" for where, said, finding_id in uses if finding_id not in FINDINGS]
    assert not undeclared, f"finding ids used but not declared in the catalogue: {undeclared}"
    # And the other way round: a declared kind nothing produces is a stale declaration.
    produced = {finding_id for where, _, finding_id in uses if where.startswith("policy/_findings.py")}
    assert set(FINDINGS) - produced == set()


def test_the_scan_sees_string_ids_too() -> None:
    """The scan above would catch a producer or a reader that went back to free strings."""
    tree = ast.parse(
        'import tlsprobe.policy._catalogue as c\nFinding(id="heartbleed2", severity=s, title=t, evidence=())\n'
        'finding.id in ("robot", "logjam2")\nFINDINGS["sweet32"]\nfinding_kind("nope")\nc.SWEET_32\n'
    )
    assert [(said, finding_id) for _, said, finding_id in _uses(tree)] == [
        ("Finding(id='heartbleed2')", "heartbleed2"),
        (".id vs 'robot'", "robot"),
        (".id vs 'logjam2'", "logjam2"),
        ("FINDINGS['sweet32']", "sweet32"),
        ("lookup 'nope'", "nope"),
        ("c.SWEET_32", None),
    ]


def test_findings_are_built_only_through_the_catalogue() -> None:
    direct = [
        f"{path.relative_to(_SOURCE)}:{node.lineno}"
        for path in sorted(_SOURCE.rglob("*.py"))
        if path.name != "_catalogue.py" or path.parent.name != "policy"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and _is_name(node.func, "Finding")
    ]
    assert direct == []


# --- the catalogue itself ------------------------------------------------------------------------------------------


def test_each_kind_has_one_constant_named_after_its_id() -> None:
    constants = {name: value for name, value in vars(_catalogue).items() if isinstance(value, FindingKind)}
    assert {name: kind.id.upper() for name, kind in constants.items()} == {name: name for name in constants}
    assert sorted(kind.id for kind in constants.values()) == sorted(FINDINGS)
    assert all(FINDINGS[kind.id] is kind for kind in constants.values())


def test_an_id_cannot_be_declared_twice() -> None:
    with pytest.raises(ValueError, match="'heartbleed' is declared twice"):
        _catalogue._declare("heartbleed", {Severity.LOW: None}, checks=("heartbleed",))
    assert FINDINGS["heartbleed"] is _catalogue.HEARTBLEED


def test_the_ids_are_stable() -> None:
    """Ids are public (JSON output, scripts reading it): renaming one must be deliberate, and change this list."""
    assert set(FINDINGS) == {
        "drown", "sslv3", "tls1_0", "tls1_1", "poodle", "anonymous", "null_cipher", "export", "freak", "rc4",
        "sweet32", "beast", "logjam", "certificate_untrusted", "certificate_hostname_mismatch",
        "certificate_validity", "certificate_weak_key", "certificate_sha1", "certificate_weak_signature",
        "certificate_revoked", "must_staple_violated", "heartbleed", "openssl_ccs_injection", "robot", "compression",
        "insecure_renegotiation", "client_renegotiation", "no_extended_master_secret", "no_fallback_scsv",
        "dh_composite_modulus", "dh_small_subgroup", "dh_common_prime", "dh_non_safe_prime",
        "dh_full_group_generator",
        "no_tls1_3", "no_forward_secrecy", "no_aead",
    }  # fmt: skip


def test_an_undeclared_id_raises() -> None:
    with pytest.raises(KeyError, match="no-such-id"):
        finding_kind("no-such-id")
    assert finding_kind("sweet32") is _catalogue.SWEET32


def test_every_source_check_is_a_registered_check() -> None:
    registered = {check.name for check in DEFAULT_CHECKS}
    unknown = {kind.id: set(kind.source_checks) - registered for kind in FINDINGS.values()}
    assert {finding_id: names for finding_id, names in unknown.items() if names} == {}


def test_grade_caps_are_letters_of_the_grade() -> None:
    caps = {cap for kind in FINDINGS.values() for cap in kind.grade_caps.values()}
    assert caps <= {*GRADES, None}
    assert all(kind.grade_caps for kind in FINDINGS.values())
    with pytest.raises(ValueError, match="grade caps must be one of"):
        FindingKind(id="x", grade_caps={Severity.LOW: "G"}, vulnerability=None, source_checks=("robot",))


def test_every_vulnerability_is_read_from_one_kind_or_declared_unmapped() -> None:
    mapped = [kind.vulnerability for kind in FINDINGS.values() if kind.vulnerability is not None]
    assert len(mapped) == len(set(mapped))
    assert set(mapped).isdisjoint(UNMAPPED_VULNERABILITIES)
    assert set(mapped) | UNMAPPED_VULNERABILITIES == set(Vulnerability)
    assert all(VULNERABILITY_KINDS[kind.vulnerability] is kind for kind in FINDINGS.values() if kind.vulnerability)


def test_a_kind_builds_findings_only_with_its_declared_severities() -> None:
    finding = _catalogue.SWEET32.finding(title="t", evidence=("e",))
    assert (finding.id, finding.severity) == ("sweet32", Severity.MEDIUM)
    with pytest.raises(ValueError, match="a sweet32 finding is never high"):
        _catalogue.SWEET32.finding(title="t", evidence=(), severity=Severity.HIGH)
    with pytest.raises(ValueError, match="a robot finding needs one of the severities"):
        _catalogue.ROBOT.finding(title="t", evidence=())
    assert _catalogue.ROBOT.severities == (Severity.HIGH, Severity.MEDIUM)
    assert (_catalogue.ROBOT.grade_cap(Severity.HIGH), _catalogue.ROBOT.grade_cap(Severity.MEDIUM)) == ("F", "B")
    assert _catalogue.BEAST.grade_cap(Severity.LOW) is None


# --- the producers, driven with check results ----------------------------------------------------------------------

_NAME = "www.example.com"
_COST = ProbeCost(connections=1, retries=0, duration_s=0.0)


def _suite(name: str) -> CipherSuite:
    suite = cipher_suite_by_name(name)
    assert suite is not None, name
    return suite


def _accepted(name: str, key: EphemeralKey | None = None) -> AcceptedCipherSuite:
    return AcceptedCipherSuite(cipher_suite=_suite(name), ephemeral_key=key)


def _dh(bits: int, prime: int | None = None, generator: int = 2) -> EphemeralKey:
    """A DH key of ``bits``; with ``prime``, the group (p, g) its ServerKeyExchange carried."""
    if prime is None:
        return EphemeralKey(kind=EphemeralKeyKind.DH, size=bits, group=None, public_key=b"")
    size = (prime.bit_length() + 7) // 8
    return EphemeralKey(
        kind=EphemeralKeyKind.DH,
        size=prime.bit_length(),
        group=None,
        public_key=b"",
        dh_prime=prime.to_bytes(size, "big"),
        dh_generator=generator.to_bytes((generator.bit_length() + 7) // 8, "big"),
    )


_FFDHE2048 = ffdhe_prime(0x0100) or 0
_OAKLEY_GROUP2 = next(group for group in KNOWN_DH_GROUPS if group.name == "oakley_group2")
_RFC5114_2048_256 = next(group for group in KNOWN_DH_GROUPS if group.name == "rfc5114_2048_256")


def _chain(*certificates: x509.Certificate, ocsp_response: bytes | None = None) -> RetrievedChain:
    retrieval = CertificateRetrieval(version=TLSVersion.TLS1_2, server_name=_NAME, offered_key_type=OfferedKeyType.ANY)
    der = tuple(cert.public_bytes(serialization.Encoding.DER) for cert in certificates)
    return RetrievedChain(certificates=der, ocsp_response=ocsp_response, sct_list=None, retrieval=retrieval)


def _certificates() -> CertificateResult:
    """Deployments with every certificate flaw, judged against Mozilla's store (which trusts none of them)."""
    pki = trust_pki()
    intermediate = pki.intermediate.cert
    must_staple: Issued = issue(
        _NAME,
        key=ec.generate_private_key(ec.SECP256R1()),
        issuer=pki.intermediate,
        sans=(_NAME,),
        extensions=(x509.TLSFeature([x509.TLSFeatureType.status_request]),),
    )
    revoked = ocsp_response_der(pki.leaf.cert, pki.intermediate, ocsp.OCSPCertStatus.REVOKED)
    chains = [
        _chain(pki.expired.cert, intermediate),  # untrusted, not for www.example.com, expired
        _chain(pki.rsa1024.cert, intermediate),
        _chain(pki.under_sha1.cert, pki.sha1_intermediate.cert),
        _chain(pki.md5_leaf.cert),
        _chain(pki.leaf.cert, intermediate, ocsp_response=revoked),
        _chain(must_staple.cert, intermediate),
    ]
    deployments = tuple(analyse_deployment([chain], _NAME, [mozilla_store()], now=NOW) for chain in chains)
    return CertificateResult(
        hostname=_NAME, deployments=deployments, without_sni=WithoutSNI.SAME_CERTIFICATE, without_sni_reason=None
    )


def _features(robot: RobotVerdict) -> list[CheckCompleted[object]]:
    tls12 = TLSVersion.TLS1_2
    results: list[tuple[str, object]] = [
        ("heartbleed", HeartbleedResult(vulnerable=True, leaked_bytes=16384, tested_version=tls12, server_reaction="")),
        ("openssl_ccs_injection", CCSInjectionResult(vulnerable=True, tested_version=tls12, server_reaction="ok")),
        (
            "robot",
            RobotResult(
                verdict=robot,
                tested_version=tls12,
                cipher_suite=_suite("TLS_RSA_WITH_AES_128_CBC_SHA"),
                key_exchange_only=False,
                responses=(RobotResponse(variant=PaddingVariant.valid, reaction="alert", confirmation=None),),
            ),
        ),
        ("tls_compression", CompressionResult(supports_compression=True, compression_method=1, tested_version=tls12)),
        ("secure_renegotiation", SecureRenegotiationResult(supports_secure_renegotiation=False, tested_version=tls12)),
        (
            "client_renegotiation",
            ClientRenegotiationResult(
                accepts_client_renegotiation=True,
                successful_renegotiations=10,
                attempted_renegotiations=10,
                tested_version=tls12,
            ),
        ),
        (
            "extended_master_secret",
            ExtendedMasterSecretResult(supports_extended_master_secret=False, tested_version=tls12),
        ),
        ("fallback_scsv", FallbackSCSVResult(supports_fallback_scsv=False, tested_version=TLSVersion.TLS1_1)),
    ]
    return [CheckCompleted(name=name, result=result, cost=_COST) for name, result in results]


def _server(*checks: CheckOutcome) -> ServerScanResult:
    """A reachable server with these results; versions without cipher-suite results are not accepted."""
    given = {outcome.name for outcome in checks}
    missing = [completed_suites(version) for version in TLSVersion if f"{version.value}_cipher_suites" not in given]
    profile = ServerProfile(
        ip_address="127.0.0.1",
        port=443,
        server_name=_NAME,
        highest_version=TLSVersion.TLS1_2,
        cipher_suite=_suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        client_auth=ClientAuthRequirement.NOT_REQUESTED,
    )
    return ServerScanResult(
        target=ServerTarget(host=_NAME),
        connectivity=ConnectivityCompleted(profile=profile, cost=_COST),
        checks=(*missing, *checks),
        started_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
        duration_s=0.0,
    )


@pytest.fixture(scope="module")
def worst() -> ServerScanResult:
    """A server with every flaw tlsprobe names, at its most severe."""
    return _server(
        completed_suites(TLSVersion.SSL2, AcceptedCipherSuite(cipher_suite=SSL2_CIPHER_SUITES[0], ephemeral_key=None)),
        completed_suites(TLSVersion.SSL3, _accepted("TLS_RSA_WITH_3DES_EDE_CBC_SHA")),
        completed_suites(
            TLSVersion.TLS1_0,
            _accepted("TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
            _accepted("TLS_DH_anon_WITH_AES_128_CBC_SHA", _dh(2048)),
            _accepted("TLS_RSA_WITH_NULL_SHA"),
            _accepted("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", _dh(512)),
            # Not a prime at all, and a generator of order 2: both break DHE whatever the size.
            _accepted("TLS_DHE_RSA_WITH_AES_256_CBC_SHA", _dh(2050, _FFDHE2048 * 3)),
            _accepted("TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA", _dh(2048, _FFDHE2048, _FFDHE2048 - 1)),
        ),
        completed_suites(TLSVersion.TLS1_1, _accepted("TLS_RSA_WITH_AES_128_CBC_SHA")),
        completed_suites(TLSVersion.TLS1_2, _accepted("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")),
        CheckCompleted(name="certificate", result=_certificates(), cost=_COST),
        *_features(RobotVerdict.strong_oracle),
    )


@pytest.fixture(scope="module")
def milder() -> ServerScanResult:
    """The findings whose severity depends on the evidence, at their milder one: a weak oracle, 1024-bit DH."""
    return _server(
        completed_suites(
            TLSVersion.TLS1_2,
            _accepted("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", _dh(1024)),
            # A shared 1024-bit prime, a prime that is not safe, a generator of the whole group (7 is a non-residue).
            _accepted("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", _dh(1024, _OAKLEY_GROUP2.prime)),
            _accepted("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", _dh(2048, _RFC5114_2048_256.prime, 2)),
            _accepted("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", _dh(2048, _FFDHE2048, 7)),
        ),
        *_features(RobotVerdict.weak_oracle),
    )


@pytest.fixture(scope="module")
def lacking() -> ServerScanResult:
    """What a configuration can lack rather than accept: no TLS 1.3, no forward secrecy (its one suite is
    anonymous: an ephemeral key, but nobody's), no AEAD suite. Graded: no key exchange needs a certificate."""
    return _server(completed_suites(TLSVersion.TLS1_2, _accepted("TLS_DH_anon_WITH_AES_128_CBC_SHA", _dh(2048))))


def test_the_producers_emit_every_declared_kind_at_every_declared_severity(
    worst: ServerScanResult, milder: ServerScanResult, lacking: ServerScanResult
) -> None:
    emitted = {
        (finding.id, finding.severity) for result in (worst, milder, lacking) for finding in derive_findings(result)
    }
    declared = {(kind.id, severity) for kind in FINDINGS.values() for severity in kind.severities}
    assert emitted == declared


def test_the_grade_caps_each_finding_as_its_kind_says(
    worst: ServerScanResult, milder: ServerScanResult, lacking: ServerScanResult
) -> None:
    for result in (worst, milder, lacking):
        findings = derive_findings(result)
        caps = {(cap.reason, cap.grade) for cap in grade(result, findings=findings).caps}
        for finding in findings:
            cap = finding_kind(finding.id).grade_cap(finding.severity)
            assert (finding.title, cap) in caps if cap is not None else finding.title not in dict(caps)
    # Independent of the catalogue: the milder ROBOT and LOGJAM cap at B (docs/grading.md).
    caps = {(cap.reason, cap.grade) for cap in grade(milder).caps}
    assert ("ROBOT: a weak Bleichenbacher oracle on RSA key exchange", "B") in caps
    assert ("Diffie-Hellman groups under 2048 bits: LOGJAM exposure (CVE-2015-4000)", "B") in caps


def test_an_undeclared_finding_never_grades_silently(worst: ServerScanResult) -> None:
    renamed = (attrs.evolve(derive_findings(worst)[0], id="heart-bleed"),)
    with pytest.raises(KeyError, match="heart-bleed"):
        grade(worst, findings=renamed)


def test_a_policy_forbidding_every_vulnerability_reads_each_from_its_kind(worst: ServerScanResult) -> None:
    policy = attrs.evolve(mozilla_profile("old"), forbidden_vulnerabilities=frozenset(Vulnerability))
    compliance = evaluate_policy(worst, policy)
    assert compliance.verdict is Verdict.FAIL
    rules = {deviation.rule for deviation in compliance.deviations}
    assert {vulnerability.value for vulnerability in set(Vulnerability) - UNMAPPED_VULNERABILITIES} <= rules
    # Without the check a vulnerability is read from, its rule is unevaluated, naming that check.
    without = attrs.evolve(worst, checks=tuple(o for o in worst.checks if o.name != "tls_compression"))
    unevaluated = {(u.rule, u.reason) for u in evaluate_policy(without, policy).unevaluated}
    assert ("compression", "the tls_compression check was not run") in unevaluated
