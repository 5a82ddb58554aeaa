"""Judging a finite-field Diffie-Hellman group (p, g) as a server sends it in a DHE ServerKeyExchange.

Size alone says little: p may be composite (discrete logarithms then split along its factors, and a group built
that way can hide a trapdoor), g may generate a small subgroup (its logarithms are easy, whatever the size of p),
and a prime many servers share is worth a precomputation at 1024 bits (Logjam). ``analyze_dh_group`` answers:

- is p prime? A known group's properties are facts (``_dh_known``, checked by the tests); otherwise p - 1 is split
  into its small factors and the rest R. When R is prime and larger than sqrt(p), Pocklington's criterion proves p
  prime (or composite) with one modular exponentiation; otherwise p gets the probable-prime test of
  ``_primality``;
- is it a safe prime, (p - 1) / 2 prime?
- which subgroup does g generate? For a safe prime the Legendre symbol of g decides at no cost: a square generates
  the subgroup of prime order q = (p - 1) / 2, a non-square the whole group of order 2q (one bit of every exponent
  leaks). For a published q (RFC 5114, Java's DSA groups) g^q = 1 is checked. Otherwise: g^S = 1, with S the
  product of the small factors of p - 1, means g's order is smooth and its logarithms easy (Pohlig-Hellman); with R
  prime, g's order is R times a divisor c of S (c = 1: the prime-order subgroup it should be); with R composite the
  order stays unknown, and we say so.

Everything is pure and deterministic; results are cached by (p, g), so a prime seen in every DHE suite and
version is analysed once. References: RFC 7919 §5.1 and appendix A, RFC 5114 §2 and §4, NIST SP 800-56A rev. 3
§5.5.2 (assurances of domain-parameter validity), CVE-2016-0701 (key recovery with RFC 5114-style groups and reused
exponents).
"""

from __future__ import annotations

import enum
import functools
import hashlib
import math
from typing import Final, final

import attrs

from tlsprobe.wire._dh_known import KnownDHGroup, known_dh_group
from tlsprobe.wire._primality import (
    MAX_TESTED_BITS,
    is_probable_prime,
    jacobi,
    proves_prime_by_pocklington,
    smooth_part,
)
from tlsprobe.wire._versions import TLSVersion

PRECOMPUTATION_BITS: Final = 1024
"""A prime shared by many servers and at most this long is within reach of a precomputation (Logjam)."""
_SHOWN_GENERATOR_LIMIT: Final = 1 << 32
_COFACTOR_STEPS: Final = 64  # at most this many exponentiations to pin down g's order: bounded work per group


class Primality(enum.Enum):
    """Whether the prime of a group is prime."""

    PRIME = "prime"
    """Prime: proven by Pocklington's criterion, a Baillie-PSW probable prime, or a known group's checked prime."""
    COMPOSITE = "composite"
    """Not prime: not a Diffie-Hellman group at all."""
    UNTESTED = "untested"
    """Not tested: longer than ``MAX_TESTED_BITS``."""


class GeneratorOrder(enum.Enum):
    """What the generator generates."""

    PRIME_ORDER_SUBGROUP = "prime_order_subgroup"
    """The subgroup of large prime order q: as it should be."""
    LARGE_WITH_COFACTOR = "large_with_cofactor"
    """A subgroup of order c * q, q a large prime and c small (c = 2: the whole group of a safe prime): exponents
    leak modulo c."""
    SMALL_SUBGROUP = "small_subgroup"
    """A subgroup of small or smooth order (g = 1 or p - 1 included): its discrete logarithms are easy."""
    UNKNOWN = "unknown"
    """p - 1 has a large factor that is not prime and could not be split: the order of g is unknown."""
    NOT_APPLICABLE = "not_applicable"
    """p is not (known to be) prime."""


@final
@attrs.frozen(kw_only=True)
class DHGroupAnalysis:
    """What one finite-field group (p, g) is: known or not, prime or not, and what g generates."""

    fingerprint: str
    """The first 16 hex digits of SHA-256 over p (big-endian, no leading zeros): names a custom group across
    servers and scans."""
    prime_bits: int
    """The size of p."""
    generator: int | None
    """g, when it is below 2^32 (2, 5...); a larger one is in the ephemeral key's ``dh_generator``."""
    generator_bits: int
    """The size of g."""
    known_group: str | None
    """The name of the known group p belongs to (``ffdhe2048``, ``oakley_group2``, ``mod_ssl_2_2_1024``...)."""
    known_group_description: str | None
    """What that group is, for people."""
    known_group_source: str | None
    """Where its numbers come from: an RFC section, or the project and file that ships it."""
    widely_shared: bool
    """Whether many servers use p: a standard group, or a default shipped by software."""
    primality: Primality
    """Whether p is prime."""
    safe_prime: bool | None
    """Whether (p - 1) / 2 is prime too (None: p untested)."""
    subgroup_order_bits: int | None
    """The size of the large prime q that g's order is a multiple of, when known: (p - 1) / 2 for a safe prime, the
    published q, or the large prime factor of p - 1."""
    generator_order: GeneratorOrder
    """What g generates."""
    generator_cofactor: int | None
    """For ``LARGE_WITH_COFACTOR``: c, with g's order c * q."""
    small_order_bits: int | None
    """For ``SMALL_SUBGROUP``: the size of g's order (a bound: the smooth part of p - 1, when g is not 1 or p - 1;
    None when g is 0 modulo p)."""

    @property
    def is_precomputation_target(self) -> bool:
        """A prime many servers share, of at most ``PRECOMPUTATION_BITS``: Logjam's precomputation target."""
        return self.widely_shared and self.prime_bits <= PRECOMPUTATION_BITS

    @property
    def label(self) -> str:
        """The group's name for people: its known description, or "custom N-bit group <fingerprint>"."""
        if self.known_group_description is not None:
            return self.known_group_description
        return f"custom {self.prime_bits}-bit group {self.fingerprint}"

    def describe(self) -> str:
        """The properties of p and g in a few words, without the name."""
        if self.primality is Primality.UNTESTED:
            return f"{self.prime_bits}-bit modulus, too large to test"
        if self.primality is Primality.COMPOSITE:
            return f"{self.prime_bits}-bit modulus that is NOT PRIME"
        kind = "safe prime" if self.safe_prime else "prime, not a safe prime"
        return f"{self.prime_bits}-bit {kind}, {_generator_words(self)}"


def _generator_words(analysis: DHGroupAnalysis) -> str:
    g = "g" if analysis.generator is None else f"g={analysis.generator}"
    q = f"{analysis.subgroup_order_bits}-bit" if analysis.subgroup_order_bits is not None else "large"
    match analysis.generator_order:
        case GeneratorOrder.PRIME_ORDER_SUBGROUP:
            return f"{g} generates the {q} prime-order subgroup"
        case GeneratorOrder.LARGE_WITH_COFACTOR:
            return f"{g} generates a subgroup of order {analysis.generator_cofactor} x a {q} prime"
        case GeneratorOrder.SMALL_SUBGROUP if analysis.small_order_bits is None:
            return f"{g} is 0 modulo p: it generates nothing"
        case GeneratorOrder.SMALL_SUBGROUP:
            return f"{g} generates a SMALL subgroup (order of {analysis.small_order_bits} bits or less)"
        case _:
            return f"the order of {g} is unknown (p - 1 not factored)"


@final
@attrs.frozen(kw_only=True)
class ObservedDHGroup:
    """A finite-field group a server used, its analysis, and where it was seen."""

    analysis: DHGroupAnalysis
    """What the group is."""
    versions: tuple[TLSVersion, ...]
    """The protocol versions whose answers used it, oldest first."""
    cipher_suites: tuple[str, ...]
    """The IANA names of the DHE suites answered with it (empty when only the groups check saw it)."""
    checks: tuple[str, ...]
    """The names of the checks whose answers carried it."""


def fingerprint(prime: int) -> str:
    """The first 16 hex digits of SHA-256 over ``prime``'s big-endian bytes."""
    return hashlib.sha256(prime.to_bytes((prime.bit_length() + 7) // 8, "big")).hexdigest()[:16]


@attrs.frozen
class _Generator:
    order: GeneratorOrder
    subgroup_order_bits: int | None = None
    cofactor: int | None = None
    small_order_bits: int | None = None


_NOT_APPLICABLE: Final = _Generator(GeneratorOrder.NOT_APPLICABLE)


def _smooth_order(generator: int, prime: int, factors: tuple[int, ...]) -> _Generator | None:
    """SMALL_SUBGROUP when g's order divides the smooth part S of p - 1 (or g is 1 or p - 1), else None."""
    if generator in (1, prime - 1):
        return _Generator(
            GeneratorOrder.SMALL_SUBGROUP, small_order_bits=generator.bit_length() if generator == 1 else 2
        )
    smooth = math.prod(factors)
    if pow(generator, smooth, prime) == 1:
        return _Generator(GeneratorOrder.SMALL_SUBGROUP, small_order_bits=smooth.bit_length())
    return None


def _order_with_large_prime(generator: int, prime: int, factors: tuple[int, ...], large: int) -> _Generator:
    """g's order is c * ``large`` (``large`` prime, not dividing S, and g^S != 1): find c, the least divisor of S
    with g^(c * large) = 1, removing one small factor at a time."""
    cofactor = math.prod(factors)
    for step, factor in enumerate(sorted(set(factors))):
        if step >= _COFACTOR_STEPS:
            break
        while cofactor % factor == 0 and pow(generator, cofactor // factor * large, prime) == 1:
            cofactor //= factor
    if cofactor == 1:
        return _Generator(GeneratorOrder.PRIME_ORDER_SUBGROUP, subgroup_order_bits=large.bit_length())
    return _Generator(GeneratorOrder.LARGE_WITH_COFACTOR, subgroup_order_bits=large.bit_length(), cofactor=cofactor)


def _generator_of_safe_prime(generator: int, prime: int) -> _Generator:
    """For a safe prime p = 2q + 1: squares other than 1 have order q, non-squares other than p - 1 order 2q."""
    if generator in (1, prime - 1):
        return _Generator(
            GeneratorOrder.SMALL_SUBGROUP, small_order_bits=generator.bit_length() if generator == 1 else 2
        )
    q_bits = (prime - 1).bit_length() - 1
    if jacobi(generator, prime) == 1:
        return _Generator(GeneratorOrder.PRIME_ORDER_SUBGROUP, subgroup_order_bits=q_bits)
    return _Generator(GeneratorOrder.LARGE_WITH_COFACTOR, subgroup_order_bits=q_bits, cofactor=2)


def _generator_in_general(
    generator: int, prime: int, factors: tuple[int, ...], rest: int, rest_is_prime: bool | None
) -> _Generator:
    if (small := _smooth_order(generator, prime, factors)) is not None:
        return small
    if rest == 1:  # p - 1 is smooth: every element's order is
        return _Generator(GeneratorOrder.SMALL_SUBGROUP, small_order_bits=(prime - 1).bit_length())
    if rest_is_prime is None:
        rest_is_prime = is_probable_prime(rest)
    if rest_is_prime:
        return _order_with_large_prime(generator, prime, factors, rest)
    return _Generator(GeneratorOrder.UNKNOWN)


def _analyze_generator(
    generator: int,
    prime: int,
    known: KnownDHGroup | None,
    safe: bool,
    split: tuple[tuple[int, ...], int, bool | None] | None,
) -> _Generator:
    generator %= prime  # peers compute modulo p: a g of p or more is that residue
    if generator == 0:
        return _Generator(GeneratorOrder.SMALL_SUBGROUP)
    if safe:
        return _generator_of_safe_prime(generator, prime)
    published = known.subgroup_order if known is not None else None
    if published is not None and generator != 1 and pow(generator, published, prime) == 1:
        return _Generator(GeneratorOrder.PRIME_ORDER_SUBGROUP, subgroup_order_bits=published.bit_length())
    factors, rest, rest_is_prime = split if split is not None else (*smooth_part(prime - 1), None)
    return _generator_in_general(generator, prime, factors, rest, rest_is_prime)


def _test_prime(prime: int) -> tuple[bool, tuple[tuple[int, ...], int, bool | None]]:
    """Whether an unknown ``prime`` is prime, and p - 1 split (small factors, rest, whether the rest is prime)."""
    if prime < 5 or prime % 2 == 0:
        return prime in (2, 3), ((), 1, None)
    factors, rest = smooth_part(prime - 1)
    rest_is_prime: bool | None = None
    if rest > 1 and rest * rest > prime:
        rest_is_prime = is_probable_prime(rest)
        if rest_is_prime:
            proven = proves_prime_by_pocklington(prime, factors, rest)
            if proven is not None:
                return proven, (factors, rest, rest_is_prime)
    return is_probable_prime(prime), (factors, rest, rest_is_prime)


@functools.lru_cache(maxsize=64)
def analyze_dh_group(prime: int, generator: int) -> DHGroupAnalysis:
    """Judge the group (``prime``, ``generator``) a server sent; see the module docstring. Cached by its arguments.

    Cost for a prime no table knows (pure Python): about 0.15 s at 2048 bits, 1 s at 4096, 9 s at 8192; a known
    group's only cost is the Legendre symbol of g, or g^q for a published q."""
    known = known_dh_group(prime)
    primality, safe, generator_facts = Primality.UNTESTED, None, _NOT_APPLICABLE
    if known is not None:  # its facts were checked once, by the tests
        primality, safe = Primality.PRIME, known.safe_prime
        generator_facts = _analyze_generator(generator, prime, known, known.safe_prime, None)
    elif prime.bit_length() <= MAX_TESTED_BITS:
        is_prime, split = _test_prime(prime)
        factors, _, rest_is_prime = split
        primality = Primality.PRIME if is_prime else Primality.COMPOSITE
        safe = is_prime and factors == (2,) and bool(rest_is_prime)
        if is_prime:
            generator_facts = _analyze_generator(generator, prime, None, safe, split)
    return DHGroupAnalysis(
        fingerprint=fingerprint(prime),
        prime_bits=prime.bit_length(),
        generator=generator if generator < _SHOWN_GENERATOR_LIMIT else None,
        generator_bits=generator.bit_length(),
        known_group=known.name if known is not None else None,
        known_group_description=known.description if known is not None else None,
        known_group_source=known.source if known is not None else None,
        widely_shared=known is not None,
        primality=primality,
        safe_prime=safe,
        subgroup_order_bits=generator_facts.subgroup_order_bits,
        generator_order=generator_facts.order,
        generator_cofactor=generator_facts.cofactor,
        small_order_bits=generator_facts.small_order_bits,
    )
