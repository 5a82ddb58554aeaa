"""Client simulation on hand-built results (the fast layer): every rule of the model, and every "unknown".

The results are built as the checks return them; the certificates are real ones (``tests.trust``), judged by the
certificate check's own pure function. The same computation is proven against real handshakes in
``test_client_simulation_handshakes.py``.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import attrs
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from tests.trust import NOW, Issued, trust_pki

from tlsprobe import ServerTarget, to_jsonable
from tlsprobe._cli._render_simulation import render_client_simulation
from tlsprobe._cli._text import finish
from tlsprobe._model._results import (
    CheckCompleted,
    CheckError,
    CheckFailed,
    CheckOutcome,
    ClientAuthRequirement,
    ConnectivityCompleted,
    ConnectivityFailed,
    ErrorKind,
    ProbeCost,
    ServerProfile,
    ServerScanResult,
)
from tlsprobe.checks._certificate_retrieval import CertificateRetrieval, OfferedKeyType, RetrievedChain, WithoutSNI
from tlsprobe.checks.alpn import ALPNResult
from tlsprobe.checks.certificate import CertificateResult, analyse_deployment
from tlsprobe.checks.cipher_suites import AcceptedCipherSuite, CipherSuitesResult, EnumerationMode
from tlsprobe.checks.groups import GroupsAtVersion, SupportedGroupsResult
from tlsprobe.checks.signature_algorithms import SignatureAlgorithmsAtVersion, SignatureAlgorithmsResult
from tlsprobe.policy import ClientProfile, SimulatedHandshake, SimulationOutcome, client_profiles, simulate_handshakes
from tlsprobe.policy._assess import assess
from tlsprobe.policy._client_profiles import client_profile_from_json
from tlsprobe.policy._client_simulation import simulate_client
from tlsprobe.trust import KeyType
from tlsprobe.wire import EphemeralKey, EphemeralKeyKind
from tlsprobe.wire._sigalgs import SIGNATURE_SCHEMES
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import cipher_suite_by_name, named_group_by_name

_COST = ProbeCost(connections=0, retries=0, duration_s=0.0)
_SCHEMES = {scheme.name: scheme for scheme in SIGNATURE_SCHEMES}
TLS12, TLS13 = TLSVersion.TLS1_2, TLSVersion.TLS1_3
ECDHE_RSA = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
ECDHE_RSA_256 = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
ECDHE_ECDSA = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
DHE_RSA = "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"
RSA_KX = "TLS_RSA_WITH_AES_128_CBC_SHA"
AES128, AES256 = "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"
RSA_SCHEMES = ("rsa_pss_rsae_sha256", "rsa_pkcs1_sha256")
EC_SCHEMES = ("ecdsa_secp256r1_sha256",)


def _group(name: str) -> int:
    group = named_group_by_name(name)
    assert group is not None
    return group.code


def _suite(name: str) -> int:
    suite = cipher_suite_by_name(name)
    assert suite is not None
    return suite.code


def dh_key(bits: int, group: str | None = None) -> EphemeralKey:
    return EphemeralKey(kind=EphemeralKeyKind.DH, size=bits, group=_group(group) if group else None, public_key=b"\x02")


def client(**changes: Any) -> ClientProfile:
    """A TLS 1.2 and 1.3 client, like a browser: names in the changes are turned into codes."""
    fields: dict[str, Any] = {
        "id": "test",
        "name": "Test client",
        "source": "this test",
        "versions": ["tls1_2", "tls1_3"],
        "cipher_suites": [AES128, AES256, ECDHE_ECDSA, ECDHE_RSA, ECDHE_RSA_256, DHE_RSA, RSA_KX],
        "groups": ["x25519", "secp256r1", "secp384r1"],
        "key_shares": ["x25519"],
        "signature_algorithms": ["ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256", "rsa_pkcs1_sha256"],
        "sends_sni": True,
        "alpn": ["h2", "http/1.1"],
        "min_dh_bits": None,
        "max_dh_bits": None,
        "min_rsa_bits": None,
        "max_rsa_bits": None,
        "min_ecdsa_bits": None,
        "requires_sha2": False,
    }
    fields.update(changes)
    return client_profile_from_json(fields)


def _accepted(entry: str | tuple[str, EphemeralKey]) -> AcceptedCipherSuite:
    name, key = (entry, None) if isinstance(entry, str) else entry
    suite = cipher_suite_by_name(name)
    assert suite is not None
    if key is None and suite.key_exchange.value == "ECDHE":
        key = EphemeralKey(kind=EphemeralKeyKind.ECDH, size=253, group=_group("x25519"), public_key=b"\x04")
    return AcceptedCipherSuite(cipher_suite=suite, ephemeral_key=key)


def _groups(version: TLSVersion, names: Sequence[str], server_order: bool | None) -> GroupsAtVersion:
    found = tuple(group for name in names if (group := named_group_by_name(name)) is not None)
    return GroupsAtVersion(
        version=version,
        accepted_groups=found,
        server_order_enforced=server_order if len(found) > 1 else None,
        rejected_groups=(),
    )


def _schemes(version: TLSVersion, names: Sequence[str]) -> SignatureAlgorithmsAtVersion:
    return SignatureAlgorithmsAtVersion(
        version=version, accepted=tuple(_SCHEMES[name] for name in names), rejected=(), chosen_outside_offer=None
    )


@pytest.fixture(scope="module")
def pki() -> Any:
    return trust_pki()


def _deployments(leaves: Sequence[tuple[Issued, str | None]]) -> tuple[Any, ...]:
    deployments = []
    for leaf, server_name in leaves:
        chain = RetrievedChain(
            certificates=(leaf.cert.public_bytes(Encoding.DER),),
            ocsp_response=None,
            sct_list=None,
            retrieval=CertificateRetrieval(version=TLS12, server_name=server_name, offered_key_type=OfferedKeyType.ANY),
        )
        deployments.append(analyse_deployment([chain], "www.example.com", [], now=NOW))
    return tuple(deployments)


def scan_result(
    *,
    suites: Mapping[TLSVersion, Sequence[str | tuple[str, EphemeralKey]]],
    server_order: bool | None = True,
    tls13_groups: Sequence[str] = ("x25519", "secp256r1"),
    curves: Sequence[str] = ("x25519", "secp256r1"),
    ffdhe: Sequence[str] = (),
    group_order: bool = True,
    tls12_schemes: Sequence[str] = RSA_SCHEMES,
    tls13_schemes: Sequence[str] = ("rsa_pss_rsae_sha256",),
    leaves: Sequence[tuple[Issued, str | None]] = (),
    without_sni: WithoutSNI = WithoutSNI.NOT_TESTED,
    alpn: Sequence[str] = ("h2", "http/1.1"),
    alpn_order: bool | None = True,
    server_name: str | None = None,
    client_auth: ClientAuthRequirement = ClientAuthRequirement.NOT_REQUESTED,
    omit: Sequence[str] = (),
    exhaustive: bool = False,
) -> ServerScanResult:
    """A scan result as the checks would return it for a server with these facts."""
    versions = [version for version in TLSVersion if suites.get(version)]
    highest = versions[-1]
    outcomes: list[CheckOutcome] = []
    for version in TLSVersion:
        accepted = tuple(_accepted(entry) for entry in suites.get(version, ()))
        result = CipherSuitesResult(
            version=version,
            is_supported=bool(accepted),
            accepted_cipher_suites=accepted,
            server_order_enforced=None if exhaustive or len(accepted) < 2 else server_order,
            rejected_cipher_suites=(),
            mode=EnumerationMode.EXHAUSTIVE if exhaustive else EnumerationMode.BUNDLE,
        )
        outcomes.append(CheckCompleted(name=f"{version.value}_cipher_suites", result=result, cost=_COST))
    below = TLS12 in versions
    groups = SupportedGroupsResult(
        tls1_3=_groups(TLS13, tls13_groups, group_order) if TLS13 in versions else None,
        ecdhe_below_tls1_3=_groups(TLS12, curves, group_order) if below else None,
        ffdhe_below_tls1_3=_groups(TLS12, ffdhe, group_order) if below else None,
    )
    schemes = SignatureAlgorithmsResult(
        tls1_2=_schemes(TLS12, tls12_schemes) if below else None,
        tls1_3=_schemes(TLS13, tls13_schemes) if TLS13 in versions else None,
    )
    host = server_name or "127.0.0.1"
    certificates = CertificateResult(
        hostname=host, deployments=_deployments(leaves), without_sni=without_sni, without_sni_reason=None
    )
    alpn_result = ALPNResult(
        tested_version=highest,
        accepted_protocols=tuple(alpn),
        server_order_enforced=alpn_order if len(alpn) > 1 else None,
        rejected_protocols=(),
    )
    for name, result in (
        ("supported_groups", groups),
        ("signature_algorithms", schemes),
        ("certificate", certificates),
        ("alpn", alpn_result),
    ):
        outcomes.append(CheckCompleted(name=name, result=result, cost=_COST))
    outcomes = [outcome for outcome in outcomes if outcome.name not in omit]
    top = suites[highest][0]
    profile = ServerProfile(
        ip_address="127.0.0.1",
        port=443,
        server_name=server_name,
        highest_version=highest,
        cipher_suite=_accepted(top).cipher_suite,
        client_auth=client_auth,
    )
    return ServerScanResult(
        target=ServerTarget(host=host, port=443, ip="127.0.0.1" if server_name else None),
        connectivity=ConnectivityCompleted(profile=profile, cost=_COST),
        checks=tuple(outcomes),
        started_at=datetime.datetime.now(datetime.UTC),
        duration_s=0.0,
    )


def simulate(profile: ClientProfile, result: ServerScanResult) -> SimulatedHandshake:
    return simulate_client(profile, result)


# --- the client table ---------------------------------------------------------------------------------------------


def test_the_client_table_is_complete_and_sourced() -> None:
    profiles = client_profiles()
    assert 20 <= len(profiles) <= 40
    assert len({profile.id for profile in profiles}) == len(profiles)
    names = " ".join(profile.name for profile in profiles)
    for family in ("Chrom", "Firefox", "Safari", "Edge", "Android", "Java 8", "Java 11", "Java 17", "OpenSSL 1.0.2",
                   "OpenSSL 1.1.1", "OpenSSL 3", "Apple ATS", "IE 8 (Windows XP)", "Googlebot"):  # fmt: skip
        assert family in names, family
    for profile in profiles:
        assert profile.source.startswith("testssl.sh etc/client-simulation.txt at "), profile.id
        assert profile.versions and profile.cipher_suites, profile.id
        assert set(profile.key_shares) <= set(profile.groups), profile.id
        if TLS13 in profile.versions:
            assert profile.key_shares, profile.id  # a TLS 1.3 hello always carries a key share
    xp = next(profile for profile in profiles if profile.id == "ie_8_xp")
    assert not xp.sends_sni and xp.versions == {TLSVersion.SSL3, TLSVersion.TLS1_0}


def test_the_table_is_read_strictly() -> None:
    with pytest.raises(ValueError, match='cipher_suites: unknown name "TLS_NO_SUCH_SUITE"'):
        client(cipher_suites=["TLS_NO_SUCH_SUITE"])
    with pytest.raises(ValueError, match="sends_sni: expected bool"):
        client(sends_sni="yes")
    with pytest.raises(ValueError, match="versions: unknown version"):
        client(versions=["tls9"])
    assert client(cipher_suites=["0x0064"]).cipher_suites == (0x0064,)  # a code no catalogue names is kept
    document = json.loads(resources.files("tlsprobe.policy").joinpath("clients/clients.json").read_text())
    assert document["source"].startswith("https://github.com/testssl/testssl.sh/blob/")


# --- versions -----------------------------------------------------------------------------------------------------


def test_the_highest_common_version_is_negotiated(pki: Any) -> None:
    result = scan_result(suites={TLS12: [ECDHE_RSA], TLS13: [AES128]}, leaves=[(pki.rsa_root, None)])
    assert simulate(client(), result).version is TLS13
    assert simulate(client(versions=["tls1_0", "tls1_1", "tls1_2"]), result).version is TLS12


def test_no_common_version_fails_and_says_what_each_side_speaks(pki: Any) -> None:
    result = scan_result(suites={TLSVersion.TLS1_0: [RSA_KX]}, leaves=[(pki.rsa_root, None)])
    handshake = simulate(client(), result)
    assert handshake.outcome is SimulationOutcome.FAILS and handshake.version is None
    assert handshake.note == "no protocol version in common (client: TLS 1.2-TLS 1.3; server: TLS 1.0)"


def test_a_missing_version_check_is_unknown_but_versions_above_the_highest_need_none(pki: Any) -> None:
    result = scan_result(suites={TLS12: [ECDHE_RSA]}, leaves=[(pki.rsa_root, None)], omit=["tls1_3_cipher_suites"])
    # TLS 1.3 is above the highest version the connectivity phase saw: known to be refused without its check.
    assert simulate(client(), result).version is TLS12
    result = scan_result(suites={TLS12: [ECDHE_RSA], TLS13: [AES128]}, leaves=[(pki.rsa_root, None)],
                         omit=["tls1_3_cipher_suites"])  # fmt: skip
    handshake = simulate(client(), result)
    assert handshake.outcome is SimulationOutcome.UNKNOWN
    assert handshake.note == "the tls1_3_cipher_suites check was not run"


# --- suites below TLS 1.3 -----------------------------------------------------------------------------------------


def test_server_order_or_client_order_decides_the_suite(pki: Any) -> None:
    leaves = [(pki.rsa_root, None)]
    offered = [ECDHE_RSA_256, ECDHE_RSA]
    picky = client(cipher_suites=[ECDHE_RSA, ECDHE_RSA_256], versions=["tls1_2"])
    server_first = scan_result(suites={TLS12: offered}, server_order=True, leaves=leaves)
    client_first = scan_result(suites={TLS12: offered}, server_order=False, leaves=leaves)
    assert simulate(picky, server_first).cipher_suite == ECDHE_RSA_256
    assert simulate(picky, client_first).cipher_suite == ECDHE_RSA


def test_an_undetermined_order_is_unknown_only_when_it_matters(pki: Any) -> None:
    leaves = [(pki.rsa_root, None)]
    result = scan_result(suites={TLS12: [ECDHE_RSA_256, ECDHE_RSA]}, exhaustive=True, leaves=leaves)
    tls12 = ["tls1_2"]
    assert simulate(client(versions=tls12), result).note == "the server's suite order at TLS 1.2 was not determined"
    assert simulate(client(versions=tls12, cipher_suites=[ECDHE_RSA]), result).cipher_suite == ECDHE_RSA


def test_ecdhe_needs_a_common_curve_and_the_server_moves_on(pki: Any) -> None:
    leaves = [(pki.rsa_root, None)]
    result = scan_result(suites={TLS12: [ECDHE_RSA, RSA_KX]}, curves=["secp384r1"], leaves=leaves)
    moved_on = simulate(client(versions=["tls1_2"], groups=["x25519"], key_shares=[]), result)
    assert (moved_on.cipher_suite, moved_on.group) == (RSA_KX, None)
    only_ecdhe = simulate(client(versions=["tls1_2"], groups=["x25519"], key_shares=[], cipher_suites=[ECDHE_RSA]),
                          result)  # fmt: skip
    assert only_ecdhe.outcome is SimulationOutcome.FAILS
    assert only_ecdhe.note == "the suites in common at TLS 1.2 cannot be used: no ECDHE curve in common"
    assert only_ecdhe.version is TLS12


def test_the_curve_follows_the_servers_order_or_the_clients(pki: Any) -> None:
    leaves = [(pki.rsa_root, None)]
    tls12 = client(versions=["tls1_2"], groups=["secp256r1", "x25519"], key_shares=[])
    for order, expected in ((True, "x25519"), (False, "secp256r1")):
        result = scan_result(suites={TLS12: [ECDHE_RSA]}, curves=["x25519", "secp256r1"], group_order=order,
                             leaves=leaves)  # fmt: skip
        assert simulate(tls12, result).group == expected


def test_an_ecdsa_certificate_needs_its_curve_offered_below_tls13(pki: Any) -> None:
    # The server prefers its ECDSA certificate; a client without P-256 gets the RSA one (RFC 8422 §5.1).
    result = scan_result(suites={TLS12: [ECDHE_ECDSA, ECDHE_RSA]}, leaves=[(pki.leaf, None), (pki.rsa_root, None)],
                         tls12_schemes=(*EC_SCHEMES, *RSA_SCHEMES))  # fmt: skip
    with_p256 = simulate(client(versions=["tls1_2"]), result)
    assert (with_p256.cipher_suite, with_p256.certificate_key_type) == (ECDHE_ECDSA, KeyType.EC)
    without = simulate(client(versions=["tls1_2"], groups=["x25519"], key_shares=[]), result)
    assert (without.cipher_suite, without.certificate_key_type, without.certificate_key_size) == (
        ECDHE_RSA,
        KeyType.RSA,
        2048,
    )


def test_a_signed_suite_needs_a_signature_scheme_in_common_under_tls12(pki: Any) -> None:
    result = scan_result(suites={TLS12: [ECDHE_RSA, RSA_KX]}, tls12_schemes=("rsa_pkcs1_sha256",),
                         leaves=[(pki.rsa_root, None)])  # fmt: skip
    pss_only = client(versions=["tls1_2"], signature_algorithms=["rsa_pss_rsae_sha256"])
    assert simulate(pss_only, result).cipher_suite == RSA_KX  # RSA key exchange signs nothing
    assert simulate(client(versions=["tls1_2"]), result).cipher_suite == ECDHE_RSA


# --- finite-field DH ----------------------------------------------------------------------------------------------


def test_a_fixed_dh_prime_is_judged_by_the_client(pki: Any) -> None:
    leaves = [(pki.rsa_root, None)]
    result = scan_result(suites={TLS12: [(DHE_RSA, dh_key(2048))]}, leaves=leaves)
    dhe_only = {"versions": ["tls1_2"], "cipher_suites": [DHE_RSA]}
    accepted = simulate(client(**dhe_only, max_dh_bits=4096), result)
    assert (accepted.outcome, accepted.dh_bits, accepted.group) == (SimulationOutcome.CONNECTS, 2048, None)
    refused = simulate(client(**dhe_only, max_dh_bits=1024), result)
    assert refused.outcome is SimulationOutcome.FAILS and refused.version is TLS12
    assert refused.note == "DH prime of 2048 bits, above the client's maximum of 1024"
    small = scan_result(suites={TLS12: [(DHE_RSA, dh_key(768))]}, leaves=leaves)
    assert simulate(client(**dhe_only, min_dh_bits=1024), small).note == (
        "DH prime of 768 bits, below the client's minimum of 1024"
    )


def test_rfc7919_groups_are_negotiated_when_the_server_shows_it_negotiates_them(pki: Any) -> None:
    leaves = [(pki.rsa_root, None)]
    result = scan_result(suites={TLS12: [(DHE_RSA, dh_key(4096, "ffdhe4096"))]}, ffdhe=["ffdhe4096", "ffdhe3072"],
                         group_order=False, leaves=leaves)  # fmt: skip
    dhe = {"versions": ["tls1_2"], "cipher_suites": [DHE_RSA]}
    offered = simulate(client(**dhe, groups=["ffdhe3072", "ffdhe4096"], key_shares=[]), result)
    assert (offered.group, offered.dh_bits) == ("ffdhe3072", 3072)
    none_in_common = simulate(client(**dhe, groups=["ffdhe2048"], key_shares=[]), result)
    assert none_in_common.outcome is SimulationOutcome.FAILS
    assert "no RFC 7919 group in common for DHE" in (none_in_common.note or "")
    none_offered = simulate(client(**dhe, groups=["x25519"], key_shares=[]), result)
    assert none_offered.outcome is SimulationOutcome.UNKNOWN
    assert "the prime it uses for a client offering none was not seen" in (none_offered.note or "")


def test_one_rfc7919_group_found_may_be_a_fixed_prime(pki: Any) -> None:
    # OpenSSL 3 always uses ffdhe2048's prime; GnuTLS with one group negotiates it: alike for a client that offers
    # it or no group, different for one that offers only others.
    result = scan_result(suites={TLS12: [(DHE_RSA, dh_key(2048, "ffdhe2048"))]}, ffdhe=["ffdhe2048"],
                         leaves=[(pki.rsa_root, None)])  # fmt: skip
    dhe = {"versions": ["tls1_2"], "cipher_suites": [DHE_RSA], "key_shares": []}
    assert simulate(client(**dhe, groups=["ffdhe2048", "ffdhe3072"]), result).group == "ffdhe2048"
    assert simulate(client(**dhe, groups=["x25519"]), result).dh_bits == 2048
    assert simulate(client(**dhe, groups=["ffdhe3072"]), result).outcome is SimulationOutcome.UNKNOWN


def test_an_unknown_suite_after_the_chosen_one_does_not_matter(pki: Any) -> None:
    # DHE against a server negotiating RFC 7919 groups is unknown for a client offering none of them; the server
    # takes ECDHE first anyway.
    suites = {TLS12: [ECDHE_RSA, (DHE_RSA, dh_key(4096, "ffdhe4096"))]}
    result = scan_result(suites=suites, ffdhe=["ffdhe4096", "ffdhe3072"], leaves=[(pki.rsa_root, None)])
    tls12 = client(versions=["tls1_2"], cipher_suites=[DHE_RSA, ECDHE_RSA])
    assert simulate(tls12, result).cipher_suite == ECDHE_RSA
    client_order = scan_result(suites=suites, server_order=False, ffdhe=["ffdhe4096", "ffdhe3072"],
                               leaves=[(pki.rsa_root, None)])  # fmt: skip
    assert simulate(tls12, client_order).outcome is SimulationOutcome.UNKNOWN


# --- TLS 1.3 ------------------------------------------------------------------------------------------------------


def test_tls13_suite_by_order(pki: Any) -> None:
    leaves = [(pki.rsa_root, None)]
    for order, expected in ((True, AES256), (False, AES128)):
        result = scan_result(suites={TLS13: [AES256, AES128]}, server_order=order, leaves=leaves)
        assert simulate(client(), result).cipher_suite == expected
    result = scan_result(suites={TLS13: ["TLS_CHACHA20_POLY1305_SHA256"]}, leaves=leaves)
    assert simulate(client(), result).note == "no cipher suite in common at TLS 1.3"


def test_tls13_key_share_accepted_or_hello_retry_request(pki: Any) -> None:
    leaves = [(pki.rsa_root, None)]
    result = scan_result(suites={TLS13: [AES128]}, tls13_groups=["secp256r1", "x25519"], leaves=leaves)
    # The share is for the group both prefer: no HelloRetryRequest.
    direct = simulate(client(groups=["secp256r1", "x25519"], key_shares=["secp256r1"]), result)
    assert (direct.group, direct.hello_retry_request) == ("secp256r1", False)
    # No usable share: the server asks for the group it prefers among the client's.
    retried = simulate(client(groups=["X25519MLKEM768", "secp384r1", "secp256r1"], key_shares=["X25519MLKEM768"]),
                       result)  # fmt: skip
    assert (retried.outcome, retried.group, retried.hello_retry_request) == (
        SimulationOutcome.CONNECTS,
        "secp256r1",
        True,
    )
    assert retried.certificate_key_type is KeyType.RSA


def test_a_share_the_server_does_not_prefer_leaves_the_group_unknown_but_connects(pki: Any) -> None:
    result = scan_result(suites={TLS13: [AES128]}, tls13_groups=["secp256r1", "x25519"], group_order=True,
                         leaves=[(pki.rsa_root, None)])  # fmt: skip
    handshake = simulate(client(groups=["x25519", "secp256r1"], key_shares=["x25519"]), result)
    assert handshake.outcome is SimulationOutcome.CONNECTS
    assert (handshake.group, handshake.hello_retry_request) == (None, None)
    assert (handshake.note or "").startswith("group unknown: the server prefers secp256r1, the client sent a key share")
    # A server that follows the client's order takes the share.
    follows = scan_result(suites={TLS13: [AES128]}, tls13_groups=["secp256r1", "x25519"], group_order=False,
                          leaves=[(pki.rsa_root, None)])  # fmt: skip
    assert simulate(client(groups=["x25519", "secp256r1"], key_shares=["x25519"]), follows).group == "x25519"


def test_no_common_tls13_group_fails(pki: Any) -> None:
    result = scan_result(suites={TLS13: [AES128]}, tls13_groups=["secp384r1"], leaves=[(pki.rsa_root, None)])
    handshake = simulate(client(groups=["x25519"]), result)
    assert handshake.outcome is SimulationOutcome.FAILS and handshake.version is TLS13
    assert handshake.note == "no group in common under TLS 1.3 (client: x25519; server: secp384r1)"


def test_tls13_certificate_follows_the_signature_schemes(pki: Any) -> None:
    dual = [(pki.leaf, None), (pki.rsa_root, None)]
    # Picks in the enumeration's offer order (ECDSA is offered first): client order and server order look alike.
    result = scan_result(suites={TLS13: [AES128]}, tls13_schemes=("ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256"),
                         leaves=dual)  # fmt: skip
    assert simulate(client(), result).certificate_key_type is KeyType.EC  # the client prefers ECDSA too
    rsa_only = simulate(client(signature_algorithms=["rsa_pss_rsae_sha256"]), result)
    assert rsa_only.certificate_key_type is KeyType.RSA
    rsa_first = simulate(client(signature_algorithms=["rsa_pss_rsae_sha256", "ecdsa_secp256r1_sha256"]), result)
    assert rsa_first.outcome is SimulationOutcome.CONNECTS and rsa_first.certificate_key_type is None
    assert (
        rsa_first.note
        == "certificate unknown: the server may present its EC or RSA certificate, its order was not shown"
    )
    # A client that refuses one of the two cannot be told.
    picky = client(signature_algorithms=["rsa_pss_rsae_sha256", "ecdsa_secp256r1_sha256"], min_ecdsa_bits=384)
    assert simulate(picky, result).outcome is SimulationOutcome.UNKNOWN
    # Picks against the offer order prove the server's own preference: it decides for every client.
    server_pref = scan_result(suites={TLS13: [AES128]}, leaves=dual,
                              tls13_schemes=("rsa_pss_rsae_sha256", "ecdsa_secp256r1_sha256"))  # fmt: skip
    assert simulate(client(), server_pref).certificate_key_type is KeyType.RSA
    none = simulate(client(signature_algorithms=["ed25519"]), result)
    assert none.outcome is SimulationOutcome.FAILS
    assert none.note == (
        "no signature scheme in common under TLS 1.3 "
        "(the server signs with ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256)"
    )


def test_a_server_signing_whatever_is_offered(pki: Any) -> None:
    result = scan_result(suites={TLS13: [AES128]}, leaves=[(pki.rsa_root, None)])
    outside = attrs.evolve(
        result.outcome("signature_algorithms").result.tls1_3,  # type: ignore[union-attr]
        accepted=(),
        chosen_outside_offer=_SCHEMES["rsa_pss_rsae_sha256"],
    )
    checks = tuple(
        attrs.evolve(outcome, result=SignatureAlgorithmsResult(tls1_2=None, tls1_3=outside))
        if outcome.name == "signature_algorithms"
        else outcome
        for outcome in result.checks
    )
    ignoring = attrs.evolve(result, checks=checks)
    assert simulate(client(), ignoring).certificate_key_type is KeyType.RSA
    refused = simulate(client(signature_algorithms=["ecdsa_secp256r1_sha256"]), ignoring)
    assert refused.outcome is SimulationOutcome.FAILS
    assert refused.note == "the server signs with rsa_pss_rsae_sha256 whatever is offered, which the client does not"


# --- what the client judges, SNI, ALPN ----------------------------------------------------------------------------


def test_the_client_judges_the_certificate(pki: Any) -> None:
    rsa1024 = scan_result(suites={TLS12: [ECDHE_RSA]}, leaves=[(pki.rsa1024, None)])
    assert (
        simulate(client(min_rsa_bits=2048), rsa1024).note == "RSA key of 1024 bits, below the client's minimum of 2048"
    )
    big = scan_result(suites={TLS12: [ECDHE_RSA]}, leaves=[(pki.rsa_root, None)])
    assert simulate(client(max_rsa_bits=1024), big).note == "RSA key of 2048 bits, above the client's maximum of 1024"
    sha1 = scan_result(suites={TLS12: [ECDHE_RSA]}, leaves=[(pki.sha1_root, None)])
    assert simulate(client(requires_sha2=True), sha1).note == "certificate signed over SHA1; the client requires SHA-2"
    assert simulate(client(), sha1).outcome is SimulationOutcome.CONNECTS
    p192 = scan_result(suites={TLS12: [ECDHE_ECDSA]}, leaves=[(pki.p192, None)], curves=["secp192r1"],
                       tls12_schemes=EC_SCHEMES)  # fmt: skip
    small = simulate(client(groups=["secp192r1"], key_shares=[], min_ecdsa_bits=224), p192)
    assert small.note == "EC key of 192 bits, below the client's minimum of 224"


def test_clients_without_sni(pki: Any) -> None:
    named = {"suites": {TLS12: [ECDHE_RSA]}, "leaves": [(pki.rsa_root, "www.example.com")],
             "server_name": "www.example.com"}  # fmt: skip
    no_sni = client(sends_sni=False)
    same = simulate(no_sni, scan_result(**named, without_sni=WithoutSNI.SAME_CERTIFICATE))
    assert same.outcome is SimulationOutcome.CONNECTS and same.certificate_key_type is KeyType.RSA
    refused = simulate(no_sni, scan_result(**named, without_sni=WithoutSNI.REFUSED))
    assert refused.outcome is SimulationOutcome.FAILS
    assert refused.note == "the client sends no SNI, and the server refuses hellos without it"
    other = simulate(no_sni, scan_result(**named, without_sni=WithoutSNI.DIFFERENT_CERTIFICATE))
    assert other.outcome is SimulationOutcome.UNKNOWN
    assert simulate(client(), scan_result(**named, without_sni=WithoutSNI.REFUSED)).outcome is (
        SimulationOutcome.CONNECTS
    )


def test_alpn_by_order(pki: Any) -> None:
    leaves = [(pki.rsa_root, None)]
    offer = client(alpn=["http/1.1", "h2"])
    for order, expected in ((True, "h2"), (False, "http/1.1")):
        result = scan_result(suites={TLS12: [ECDHE_RSA]}, alpn=["h2", "http/1.1"], alpn_order=order, leaves=leaves)
        assert simulate(offer, result).alpn == expected
    none = scan_result(suites={TLS12: [ECDHE_RSA]}, alpn=["h2"], leaves=leaves)
    assert simulate(client(alpn=["http/1.1"]), none).alpn is None
    assert simulate(client(alpn=[]), none).alpn is None


def test_missing_or_failed_checks_are_named(pki: Any) -> None:
    result = scan_result(suites={TLS12: [ECDHE_RSA]}, leaves=[(pki.rsa_root, None)], omit=["supported_groups"])
    assert simulate(client(), result).note == "the supported_groups check was not run"
    error = CheckError(kind=ErrorKind.TIMEOUT, message="read timed out", exception="ResponseTimeoutError")
    complete = scan_result(suites={TLS12: [ECDHE_RSA]}, leaves=[(pki.rsa_root, None)])
    no_certificate = attrs.evolve(
        complete,
        checks=(
            *(outcome for outcome in complete.checks if outcome.name != "certificate"),
            CheckFailed(name="certificate", error=error, cost=_COST),
        ),
    )
    assert simulate(client(), no_certificate).note == "the certificate check failed: read timed out"
    no_alpn = scan_result(suites={TLS12: [ECDHE_RSA]}, leaves=[(pki.rsa_root, None)], omit=["alpn"])
    handshake = simulate(client(), no_alpn)
    assert (
        handshake.outcome is SimulationOutcome.CONNECTS and handshake.note == "ALPN unknown: the alpn check was not run"
    )


def test_a_required_client_certificate_is_noted(pki: Any) -> None:
    result = scan_result(suites={TLS12: [ECDHE_RSA]}, leaves=[(pki.rsa_root, None)],
                         client_auth=ClientAuthRequirement.REQUIRED)  # fmt: skip
    assert simulate(client(), result).note == "the server requires a client certificate"


# --- on the result, in JSON and in the report ---------------------------------------------------------------------


def test_assess_fills_the_simulation_for_every_client_of_the_table(pki: Any) -> None:
    result = scan_result(suites={TLS12: [ECDHE_RSA, RSA_KX], TLS13: [AES128]}, leaves=[(pki.rsa_root, None)])
    assessed = assess(result, None)
    assert [handshake.client for handshake in assessed.client_simulation] == [p.id for p in client_profiles()]
    by_id = {handshake.client: handshake for handshake in assessed.client_simulation}
    assert by_id["chromium_137_win11"].version is TLS13
    assert by_id["ie_8_xp"].outcome is SimulationOutcome.FAILS
    document = to_jsonable(by_id["chromium_137_win11"])
    assert document["outcome"] == "connects" and document["version"] == "tls1_3"
    assert document["certificate_key_type"] == "rsa"


def test_no_simulation_without_connectivity() -> None:
    error = CheckError(kind=ErrorKind.DNS, message="no such host", exception="DNSResolutionError")
    failed = ServerScanResult(
        target=ServerTarget(host="example.invalid", port=443),
        connectivity=ConnectivityFailed(error=error, cost=_COST),
        checks=(),
        started_at=datetime.datetime.now(datetime.UTC),
        duration_s=0.0,
    )
    assert simulate_handshakes(failed) == ()
    assert simulate_client(client(), failed).note == "the server could not be scanned"


def test_the_report_table(pki: Any) -> None:
    result = scan_result(suites={TLS12: [ECDHE_RSA, RSA_KX], TLS13: [AES128]}, leaves=[(pki.rsa_root, None)])
    text = finish(render_client_simulation(assess(result, None)), colour=False, width=200)
    assert "Client simulation (computed from the results above, no connection made):" in text
    chromium = next(line for line in text.splitlines() if "Chromium 137" in line)
    assert "TLS 1.3" in chromium and "TLS_AES_128_GCM_SHA256, x25519, RSA 2048" in chromium
    xp = next(line for line in text.splitlines() if "IE 8 (Windows XP)" in line)
    assert "FAILS: no protocol version in common" in xp
    # Without the cipher-suite checks no client can be told: one line says why.
    suite_checks = [f"{version.value}_cipher_suites" for version in TLSVersion]
    unknown = scan_result(suites={TLS12: [ECDHE_RSA]}, leaves=[(pki.rsa_root, None)], omit=suite_checks)
    collapsed = finish(render_client_simulation(assess(unknown, None)), colour=False, width=300).splitlines()
    assert collapsed[-1].strip() == (
        "Every client:   unknown: the tls1_0_cipher_suites check was not run; the tls1_2_cipher_suites check was not "
        "run"
    )
