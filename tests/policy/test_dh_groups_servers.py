"""DH groups judged on real servers: OpenSSL 3's ``s_server -dhparam`` loads a parameter file written by hand (a plain
PKCS #3 DER structure, so that OpenSSL takes groups ``cryptography`` would refuse to build), and sends that group in
every DHE ServerKeyExchange. The scan judges it from the cipher-suite enumeration's answers, with no connection
of its own; the same server with ffdhe2048 and g = 2 stays clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.servers.dh_params import (
    DSA_STYLE_G,
    DSA_STYLE_P,
    SMALL_SUBGROUP_G,
    SMALL_SUBGROUP_P,
    write_dh_parameters,
)
from tests.servers.processes import start_openssl_s_server

from tlsprobe import ScanConfig, scan_server
from tlsprobe.checks import CipherSuitesCheck
from tlsprobe.testing import CountingProxy, TestPKI
from tlsprobe.wire import KNOWN_DH_GROUPS, ffdhe_prime
from tlsprobe.wire._versions import TLSVersion

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]

_FFDHE2048 = ffdhe_prime(0x0100) or 0
_KNOWN = {group.name: group for group in KNOWN_DH_GROUPS}
_DH_FINDINGS = {"dh_composite_modulus", "dh_small_subgroup", "dh_common_prime", "dh_non_safe_prime",
                "dh_full_group_generator"}  # fmt: skip


def _dhparam_file(directory: Path, prime: int, generator: int) -> Path:
    return write_dh_parameters(directory / f"dh-{prime.bit_length()}-{generator.bit_length()}.pem", prime, generator)


CASES = {
    # name: (p, g, the DH findings expected, the analysis expected)
    "composite": (_FFDHE2048 * 3, 2, {"dh_composite_modulus"}, ("composite", False, "not_applicable")),
    "order 2": (_FFDHE2048, _FFDHE2048 - 1, {"dh_small_subgroup"}, ("prime", True, "small_subgroup")),
    "small subgroup": (SMALL_SUBGROUP_P, SMALL_SUBGROUP_G, {"dh_small_subgroup"}, ("prime", False, "small_subgroup")),
    "DSA-style": (DSA_STYLE_P, DSA_STYLE_G, {"dh_non_safe_prime"}, ("prime", False, "unknown")),
    "Oakley 2": (_KNOWN["oakley_group2"].prime, 2, {"dh_common_prime"}, ("prime", True, "prime_order_subgroup")),
    "RFC 5114": (
        _KNOWN["rfc5114_2048_256"].prime,
        _KNOWN["rfc5114_2048_256"].generator or 2,
        {"dh_non_safe_prime"},
        ("prime", False, "prime_order_subgroup"),
    ),
    "whole group": (_FFDHE2048, 7, {"dh_full_group_generator"}, ("prime", True, "large_with_cofactor")),
    "ffdhe2048": (_FFDHE2048, 2, set(), ("prime", True, "prime_order_subgroup")),
}


@pytest.mark.parametrize("case", CASES)
async def test_the_group_a_server_sends_is_judged(case: str, test_pki: TestPKI, tmp_path: Path) -> None:
    prime, generator, expected, (primality, safe, order) = CASES[case]
    dhparam = _dhparam_file(tmp_path, prime, generator)
    arguments = ["-dhparam", str(dhparam), "-cipher", "DHE:@SECLEVEL=0", "-tls1_2"]
    with start_openssl_s_server(arguments, test_pki.rsa_chain, test_pki.rsa_key) as server:
        result = await scan_server(
            f"127.0.0.1:{server.port}", [CipherSuitesCheck(version=TLSVersion.TLS1_2)], config=ScanConfig()
        )
    (group,) = result.dh_groups
    analysis = group.analysis
    assert (analysis.primality.value, analysis.safe_prime, analysis.generator_order.value) == (primality, safe, order)
    assert analysis.prime_bits == prime.bit_length()
    assert group.cipher_suites and all("DHE" in suite for suite in group.cipher_suites)
    assert {finding.id for finding in result.findings} & _DH_FINDINGS == expected


async def test_judging_the_groups_opens_no_connection(test_pki: TestPKI, tmp_path: Path) -> None:
    """The groups are read from the enumeration's answers: the connections are the enumeration's alone, the same
    with a flawed group as with a clean one."""
    counts: dict[str, int] = {}
    for name in ("composite", "ffdhe2048"):
        prime, generator, _, _ = CASES[name]
        arguments = ["-dhparam", str(_dhparam_file(tmp_path, prime, generator)), "-cipher", "DHE:@SECLEVEL=0"]
        with (
            start_openssl_s_server([*arguments, "-tls1_2"], test_pki.rsa_chain, test_pki.rsa_key) as server,
            CountingProxy("127.0.0.1", server.port) as proxy,
        ):
            result = await scan_server(
                f"127.0.0.1:{proxy.port}", [CipherSuitesCheck(version=TLSVersion.TLS1_2)], config=ScanConfig()
            )
        assert result.dh_groups
        counts[name] = proxy.total_connections
    assert counts["composite"] == counts["ffdhe2048"]
