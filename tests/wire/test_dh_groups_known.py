"""The table of known Diffie-Hellman groups holds what it claims: every prime is prime and of its size, safe where
it says so, the published subgroup orders are prime and the generators' orders; the RFC primes follow from their
formulas in pi and e, and match OpenSSL's own named groups.

Groups over 1024 bits take from 0.1 s to seconds to check in pure Python: those cases are slow.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_parameters

from tlsprobe.wire import KNOWN_DH_GROUPS, KnownDHGroup, ffdhe_prime, known_dh_group
from tlsprobe.wire._primality import is_probable_prime, jacobi, proves_prime_by_pocklington, smooth_part


def _cases(groups: tuple[KnownDHGroup, ...]) -> list[object]:
    return [
        pytest.param(group, id=group.name, marks=[pytest.mark.slow] if group.bits > 1024 else []) for group in groups
    ]


def test_names_and_primes_are_unique_and_looked_up_by_prime() -> None:
    assert len({group.name for group in KNOWN_DH_GROUPS}) == len(KNOWN_DH_GROUPS)
    assert len({group.prime for group in KNOWN_DH_GROUPS}) == len(KNOWN_DH_GROUPS)
    for group in KNOWN_DH_GROUPS:
        assert known_dh_group(group.prime) is group
        assert group.source, group.name
    assert known_dh_group(KNOWN_DH_GROUPS[0].prime + 2) is None


@pytest.mark.parametrize("group", _cases(KNOWN_DH_GROUPS))
def test_each_group_is_what_it_claims(group: KnownDHGroup) -> None:
    p = group.prime
    # The size its description or name states.
    assert f"{group.bits}-bit" in group.description or str(group.bits) in group.name
    assert group.bits % 256 == 0 and group.bits >= 512
    factors, rest = smooth_part(p - 1)
    if group.safe_prime:
        # (p - 1) / 2 prime, and with it p itself, proven by Pocklington's criterion.
        assert factors == (2,)
        assert is_probable_prime(rest)
        assert proves_prime_by_pocklington(p, factors, rest) is True
    else:
        assert is_probable_prime(p)
        assert not is_probable_prime((p - 1) // 2)
    if group.subgroup_order is not None:
        q = group.subgroup_order
        assert is_probable_prime(q) and (p - 1) % q == 0
        assert group.generator is not None and 1 < group.generator < p - 1
        assert pow(group.generator, q, p) == 1  # the generator's order is exactly the prime q
    elif group.generator == 2:
        assert group.safe_prime


def _pi_times_power_of_two(bits: int) -> int:
    """floor(pi * 2^bits), from Machin's formula pi = 16 atan(1/5) - 4 atan(1/239) in fixed point."""
    guard = 32
    one = 1 << (bits + guard)

    def arctan_inverse(x: int) -> int:
        total, term, k, sign = 0, one // x, 1, 1
        while term:
            total += sign * (term // k)
            term //= x * x
            k += 2
            sign = -sign
        return total

    return (16 * arctan_inverse(5) - 4 * arctan_inverse(239)) >> guard


# RFC 2409 §6.1-6.2 and RFC 3526 §2-7: p = 2^b - 2^(b-64) - 1 + 2^64 * (floor(2^(b-130) * pi) + k).
_MODP_K = {
    "oakley_group1": 149686,
    "oakley_group2": 129093,
    "modp1536": 741804,
    "modp2048": 124476,
    "modp3072": 1690314,
    "modp4096": 240904,
    "modp6144": 929484,
    "modp8192": 4743158,
}


@pytest.mark.parametrize("name", sorted(_MODP_K))
def test_the_modp_primes_follow_from_pi(name: str) -> None:
    group = next(group for group in KNOWN_DH_GROUPS if group.name == name)
    b = group.bits
    expected = 2**b - 2 ** (b - 64) - 1 + 2**64 * (_pi_times_power_of_two(b - 130) + _MODP_K[name])
    assert group.prime == expected
    assert group.generator == 2


def test_the_ffdhe_groups_are_rfc7919s() -> None:
    # tests/wire/test_hello.py derives these primes from e; the table must hold the same numbers.
    for code, bits in zip(range(0x0100, 0x0105), (2048, 3072, 4096, 6144, 8192), strict=True):
        group = known_dh_group(ffdhe_prime(code) or 0)
        assert group is not None and group.name == f"ffdhe{bits}" and group.safe_prime and group.generator == 2


def test_generator_two_is_a_square_exactly_for_the_standard_safe_primes() -> None:
    """For a safe prime, g = 2 generates the prime-order subgroup when it is a square (p = 7 mod 8): the RFC groups
    were built so; the old software defaults (p = 11 mod 24, OpenSSL's former rule) were not."""
    standard = [g for g in KNOWN_DH_GROUPS if g.name.startswith(("ffdhe", "modp", "oakley"))]
    assert standard and all(jacobi(2, g.prime) == 1 and g.prime % 8 == 7 for g in standard)
    apache = known_dh_group(next(g.prime for g in KNOWN_DH_GROUPS if g.name == "mod_ssl_2_2_1024"))
    assert apache is not None and apache.prime % 24 == 11 and jacobi(2, apache.prime) == -1


_OPENSSL_GROUPS = {
    "modp_1536": "modp1536",
    "modp_2048": "modp2048",
    "modp_3072": "modp3072",
    "modp_4096": "modp4096",
    "modp_6144": "modp6144",
    "modp_8192": "modp8192",
    "ffdhe2048": "ffdhe2048",
    "ffdhe8192": "ffdhe8192",
    "dh_1024_160": "rfc5114_1024_160",
    "dh_2048_224": "rfc5114_2048_224",
    "dh_2048_256": "rfc5114_2048_256",
}


def _openssl() -> str:
    executable = shutil.which("openssl")
    if executable is None:
        pytest.skip("no openssl binary")
    return executable


@pytest.mark.slow
@pytest.mark.parametrize("openssl_name", sorted(_OPENSSL_GROUPS))
def test_the_rfc_groups_match_openssls_named_groups(openssl_name: str, tmp_path: Path) -> None:
    """An independent copy of the RFC numbers: OpenSSL's built-in named groups (p, g and, for RFC 5114, q)."""
    out = tmp_path / f"{openssl_name}.pem"
    subprocess.run(
        [_openssl(), "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", f"group:{openssl_name}", "-out", str(out)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    numbers = load_pem_parameters(out.read_bytes()).parameter_numbers()  # type: ignore[attr-defined]
    group = next(group for group in KNOWN_DH_GROUPS if group.name == _OPENSSL_GROUPS[openssl_name])
    assert (numbers.p, numbers.g) == (group.prime, group.generator)
    if group.subgroup_order is not None:
        assert numbers.q == group.subgroup_order


_CROSS_CHECKED = tuple(group for group in KNOWN_DH_GROUPS if group.bits <= 4096)  # OpenSSL takes minutes above


@pytest.mark.slow
@pytest.mark.parametrize("group", _CROSS_CHECKED, ids=[group.name for group in _CROSS_CHECKED])
def test_openssl_agrees_on_the_primes(group: KnownDHGroup) -> None:
    """OpenSSL's own primality test (``openssl prime``) on p, and on (p - 1) / 2 where a safe prime is claimed."""
    numbers = [group.prime, (group.prime - 1) // 2] if group.safe_prime else [group.prime]
    for number in numbers:
        answer = subprocess.run(
            [_openssl(), "prime", "-hex", format(number, "X")], check=True, capture_output=True, text=True, timeout=120
        ).stdout
        assert answer.strip().endswith("is prime"), answer
