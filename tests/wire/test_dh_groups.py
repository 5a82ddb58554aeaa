"""The pure judgement of finite-field groups: the primality test, the structure of p - 1, and ``analyze_dh_group``
on known groups and on groups built with each flaw (tests/servers/dh_params.py)."""

from __future__ import annotations

import math

import pytest

from tests.servers.dh_params import (
    COFACTOR_P,
    DSA_STYLE_G,
    DSA_STYLE_P,
    DSA_STYLE_Q,
    SAFE_1024,
    SMALL_SUBGROUP_G,
    SMALL_SUBGROUP_P,
    SMOOTH_P,
)
from tlsprobe.wire import GeneratorOrder, Primality, analyze_dh_group, ffdhe_prime, known_dh_group
from tlsprobe.wire._dh_groups import fingerprint
from tlsprobe.wire._dh_known import KNOWN_DH_GROUPS
from tlsprobe.wire._primality import (
    MAX_TESTED_BITS,
    SMOOTHNESS_BOUND,
    _extra_strong_lucas,
    is_probable_prime,
    jacobi,
    proves_prime_by_pocklington,
    smooth_part,
)


def _group(name: str) -> int:
    return next(group.prime for group in KNOWN_DH_GROUPS if group.name == name)


def _is_prime_by_trial_division(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, math.isqrt(n) + 1))


# --- primality ----------------------------------------------------------------------------------------------------


def test_small_numbers_agree_with_trial_division() -> None:
    assert [n for n in range(20000) if is_probable_prime(n) != _is_prime_by_trial_division(n)] == []
    # Past the trial primes (1987^2 and up) the probabilistic tests decide.
    start = 1987**2
    window = range(start, start + 3000)
    assert [n for n in window if is_probable_prime(n) != _is_prime_by_trial_division(n)] == []


@pytest.mark.parametrize(
    "composite",
    [
        2047,  # the least strong pseudoprime to base 2
        3215031751,  # strong pseudoprime to bases 2, 3, 5 and 7
        3825123056546413051,  # strong pseudoprime to every prime base up to 23
        318665857834031151167461,  # strong pseudoprime to every prime base up to 37
        41041 * 825265 * 321197185,  # a product of Carmichael numbers
    ],
)
def test_pseudoprimes_to_fixed_bases_are_composite(composite: int) -> None:
    assert not is_probable_prime(composite)


def test_products_of_large_primes_are_composite_and_the_primes_prime() -> None:
    mersenne = [2**127 - 1, 2**521 - 1, 2**607 - 1]
    assert all(is_probable_prime(prime) for prime in mersenne)
    assert not any(is_probable_prime(a * b) for a in mersenne for b in mersenne)
    assert not is_probable_prime(_group("oakley_group2") * _group("oakley_group1"))
    assert not is_probable_prime(_group("oakley_group2") ** 2)  # a square: the Lucas test needs no D for it


def test_the_lucas_stage_is_the_extra_strong_test() -> None:
    # Every odd prime passes; the composites below 20000 that pass are exactly the extra strong Lucas pseudoprimes
    # (OEIS A217719): the base-2 Miller-Rabin test, which they fail, is the other half of Baillie-PSW.
    assert all(_extra_strong_lucas(n) for n in range(5, 20000, 2) if _is_prime_by_trial_division(n))
    passing = [n for n in range(5, 20000, 2) if not _is_prime_by_trial_division(n) and _extra_strong_lucas(n)]
    assert passing == [989, 3239, 5777, 10877]


def test_numbers_too_large_are_refused() -> None:
    with pytest.raises(ValueError, match="not tested"):
        is_probable_prime(2 ** (MAX_TESTED_BITS + 1) + 1)


def test_jacobi_is_eulers_criterion_for_primes() -> None:
    for p in (3, 5, 7, 11, 13, 1009, 65521):
        for a in range(0, 60):
            euler = pow(a, (p - 1) // 2, p)
            assert jacobi(a, p) == (0 if a % p == 0 else 1 if euler == 1 else -1)
    with pytest.raises(ValueError, match="odd positive"):
        jacobi(3, 10)


def test_smooth_part_splits_off_the_small_factors() -> None:
    n = 2**5 * 3 * 65521 * (2**127 - 1) * (2**89 - 1)
    factors, rest = smooth_part(n)
    assert factors == (2, 2, 2, 2, 2, 3, 65521)
    assert rest == (2**127 - 1) * (2**89 - 1)
    assert smooth_part(2 * 3 * 65537) == ((2, 3), 65537)  # 65537 is above the bound: it stays in the rest
    assert SMOOTHNESS_BOUND == 65536


def test_pocklington_proves_a_safe_prime_and_catches_a_composite() -> None:
    p = ffdhe_prime(0x0100)
    assert p is not None
    assert proves_prime_by_pocklington(p, (2,), (p - 1) // 2) is True
    # n - 1 = 2 * R with R prime but n composite: a Fermat witness says so.
    r = 2**127 - 1
    composite = next(2 * k * r + 1 for k in range(1, 200) if not _is_prime_by_trial_division_big(2 * k * r + 1))
    factors, rest = smooth_part(composite - 1)
    assert rest == r
    assert proves_prime_by_pocklington(composite, factors, rest) is False
    with pytest.raises(ValueError, match="Pocklington"):
        proves_prime_by_pocklington(p, (2, 2), (p - 1) // 2)


def _is_prime_by_trial_division_big(n: int) -> bool:
    """For the numbers above: a small factor is enough to tell (each composite chosen has one)."""
    return all(n % d for d in range(3, 10000, 2))


# --- analyze_dh_group -----------------------------------------------------------------------------------------------


def test_ffdhe2048_is_clean() -> None:
    p = ffdhe_prime(0x0100)
    assert p is not None
    analysis = analyze_dh_group(p, 2)
    assert (analysis.known_group, analysis.widely_shared, analysis.prime_bits) == ("ffdhe2048", True, 2048)
    assert (analysis.primality, analysis.safe_prime) == (Primality.PRIME, True)
    assert analysis.generator_order is GeneratorOrder.PRIME_ORDER_SUBGROUP
    assert analysis.subgroup_order_bits == 2047
    assert not analysis.is_precomputation_target
    assert analysis.label == "RFC 7919 ffdhe2048"
    assert analysis.describe() == "2048-bit safe prime, g=2 generates the 2047-bit prime-order subgroup"


def test_a_common_1024_bit_prime_is_a_precomputation_target() -> None:
    oakley = analyze_dh_group(_group("oakley_group2"), 2)
    assert oakley.is_precomputation_target and oakley.generator_order is GeneratorOrder.PRIME_ORDER_SUBGROUP
    apache = analyze_dh_group(_group("mod_ssl_2_2_1024"), 2)
    assert apache.is_precomputation_target
    # 2 is not a square modulo Apache's prime: it generates the whole group, of order 2q.
    assert (apache.generator_order, apache.generator_cofactor) == (GeneratorOrder.LARGE_WITH_COFACTOR, 2)
    assert not analyze_dh_group(SAFE_1024, 2).is_precomputation_target  # unknown: nobody else uses it


def test_rfc5114_groups_generate_their_published_subgroup() -> None:
    for name, q_bits in (("rfc5114_1024_160", 160), ("rfc5114_2048_224", 224), ("rfc5114_2048_256", 256)):
        known = known_dh_group(_group(name))
        assert known is not None and known.generator is not None
        analysis = analyze_dh_group(known.prime, known.generator)
        assert (analysis.safe_prime, analysis.generator_order) == (False, GeneratorOrder.PRIME_ORDER_SUBGROUP)
        assert analysis.subgroup_order_bits == q_bits
    # Another generator with that prime is not in the published subgroup: what it generates is then unknown.
    other = analyze_dh_group(_group("rfc5114_2048_224"), 2)
    assert other.generator_order is not GeneratorOrder.PRIME_ORDER_SUBGROUP or other.subgroup_order_bits != 224


def test_a_composite_modulus() -> None:
    composite = _group("oakley_group2") * _group("mod_ssl_2_2_1024")
    analysis = analyze_dh_group(composite, 2)
    assert (analysis.primality, analysis.safe_prime, analysis.known_group) == (Primality.COMPOSITE, False, None)
    assert analysis.generator_order is GeneratorOrder.NOT_APPLICABLE
    assert analysis.describe() == "2048-bit modulus that is NOT PRIME"
    assert analyze_dh_group(composite + 1, 2).primality is Primality.COMPOSITE  # even


def test_an_unknown_safe_prime_and_its_generators() -> None:
    assert SAFE_1024 % 8 == 7  # so 2 is a square
    square = analyze_dh_group(SAFE_1024, 2)
    assert (square.primality, square.safe_prime, square.known_group) == (Primality.PRIME, True, None)
    assert (square.generator_order, square.subgroup_order_bits) == (GeneratorOrder.PRIME_ORDER_SUBGROUP, 1023)
    non_square = next(g for g in range(3, 100) if jacobi(g, SAFE_1024) == -1)
    whole = analyze_dh_group(SAFE_1024, non_square)
    assert (whole.generator_order, whole.generator_cofactor) == (GeneratorOrder.LARGE_WITH_COFACTOR, 2)
    for trivial in (1, SAFE_1024 - 1):
        assert analyze_dh_group(SAFE_1024, trivial).generator_order is GeneratorOrder.SMALL_SUBGROUP
    zero = analyze_dh_group(SAFE_1024, SAFE_1024)  # 0 modulo p
    assert (zero.generator_order, zero.small_order_bits) == (GeneratorOrder.SMALL_SUBGROUP, None)
    assert analyze_dh_group(SAFE_1024, SAFE_1024 + 2).generator_order is GeneratorOrder.PRIME_ORDER_SUBGROUP
    assert zero.generator is None and zero.generator_bits == 1024  # too large to show: JSON keeps dh_generator


@pytest.mark.slow  # a 2048-bit prime no table knows: 0.2 s
def test_a_generator_of_a_small_subgroup() -> None:
    # The facts the parameters were built with, checked without our primality test: g has order 65521.
    assert (SMALL_SUBGROUP_P - 1) % 65521 == 0 and pow(SMALL_SUBGROUP_G, 65521, SMALL_SUBGROUP_P) == 1
    assert SMALL_SUBGROUP_G != 1
    analysis = analyze_dh_group(SMALL_SUBGROUP_P, SMALL_SUBGROUP_G)
    assert (analysis.primality, analysis.safe_prime) == (Primality.PRIME, False)
    assert analysis.generator_order is GeneratorOrder.SMALL_SUBGROUP
    assert analysis.small_order_bits is not None and analysis.small_order_bits < 64
    assert "SMALL subgroup" in analysis.describe()


@pytest.mark.slow  # a 2048-bit prime no table knows: 0.4 s
def test_a_dsa_style_group_whose_subgroup_order_tls_does_not_carry() -> None:
    assert pow(DSA_STYLE_G, DSA_STYLE_Q, DSA_STYLE_P) == 1 and (DSA_STYLE_P - 1) % DSA_STYLE_Q == 0
    analysis = analyze_dh_group(DSA_STYLE_P, DSA_STYLE_G)
    assert (analysis.primality, analysis.safe_prime) == (Primality.PRIME, False)
    assert analysis.generator_order is GeneratorOrder.UNKNOWN
    assert "unknown" in analysis.describe()


def test_a_prime_with_smooth_p_minus_1_has_only_small_subgroups() -> None:
    factors, rest = smooth_part(SMOOTH_P - 1)
    assert rest == 1 and math.prod(factors) == SMOOTH_P - 1
    assert analyze_dh_group(SMOOTH_P, 2).generator_order is GeneratorOrder.SMALL_SUBGROUP


def test_the_order_of_a_generator_with_a_large_prime_factor() -> None:
    r, remainder = divmod(COFACTOR_P - 1, 210)
    assert remainder == 0
    in_subgroup = pow(2, 210, COFACTOR_P)  # order r
    analysis = analyze_dh_group(COFACTOR_P, in_subgroup)
    assert (analysis.generator_order, analysis.subgroup_order_bits) == (
        GeneratorOrder.PRIME_ORDER_SUBGROUP,
        r.bit_length(),
    )
    with_cofactor = pow(2, 105, COFACTOR_P)  # order 2r or r
    found = analyze_dh_group(COFACTOR_P, with_cofactor)
    expected = 1 if pow(with_cofactor, r, COFACTOR_P) == 1 else 2
    assert found.generator_cofactor == (None if expected == 1 else 2)
    small = pow(2, r * 2, COFACTOR_P)  # order divides 105
    assert analyze_dh_group(COFACTOR_P, small).generator_order is GeneratorOrder.SMALL_SUBGROUP


def test_a_prime_too_large_is_not_tested() -> None:
    huge = 2 ** (MAX_TESTED_BITS + 8) + 1
    analysis = analyze_dh_group(huge, 2)
    assert (analysis.primality, analysis.safe_prime) == (Primality.UNTESTED, None)
    assert analysis.generator_order is GeneratorOrder.NOT_APPLICABLE
    assert "too large" in analysis.describe()


def test_analyses_are_cached_and_fingerprints_stable() -> None:
    assert analyze_dh_group(SAFE_1024, 2) is analyze_dh_group(SAFE_1024, 2)
    assert fingerprint(SAFE_1024) == analyze_dh_group(SAFE_1024, 2).fingerprint
    assert len(fingerprint(SAFE_1024)) == 16 and fingerprint(SAFE_1024) != fingerprint(SMALL_SUBGROUP_P)
    assert analyze_dh_group(SAFE_1024, 2).label == f"custom 1024-bit group {fingerprint(SAFE_1024)}"
