"""Primality and the structure of p - 1, for judging the Diffie-Hellman groups servers send.

The numbers come from servers, so a test must hold against a number built to fool it: fixed Miller-Rabin bases
do not (Arnault 1995 built a 1300-bit composite passing every prime base below 307; Albrecht et al., "Prime and
Prejudice", CCS 2018, did the same to several libraries). ``is_probable_prime`` is therefore a Baillie-PSW test
(a strong base-2 Miller-Rabin test, then an extra strong Lucas test: no composite is known to pass both), plus a
Miller-Rabin round whose base is derived from SHA-256 of the number itself: deterministic, reproducible, and
unknown before the number is fixed, so a number cannot be built against it.

Cost: one Miller-Rabin round is one modular exponentiation (pure Python: about 3 ms at 1024 bits, 22 ms at 2048,
0.16 s at 4096, 1.2 s at 8192); the Lucas test costs about two of them. The numbers are bounded by
``MAX_TESTED_BITS`` so that no server can make a scan spend minutes here.
References: FIPS 186-5 appendix B.3 (Miller-Rabin and Lucas tests), Baillie and Wagstaff, "Lucas pseudoprimes",
Math. Comp. 35 (1980); Pocklington's criterion (Crandall and Pomerance, "Prime Numbers", theorem 4.1.3).
"""

from __future__ import annotations

import functools
import hashlib
import math
from typing import Final

MAX_TESTED_BITS: Final = 8192
"""Larger numbers are not tested: their cost grows with the cube of their size (seconds at 8192 bits), and no
standard or shipped group is larger; a server sending one is reported with the group untested."""
SMOOTHNESS_BOUND: Final = 1 << 16
"""The prime factors ``smooth_part`` looks for: below this, discrete logarithms in a subgroup are trivial."""
EXTRA_ROUNDS: Final = 1
"""Miller-Rabin rounds with a number-derived base beyond Baillie-PSW."""


@functools.cache
def _primes_below(limit: int) -> tuple[int, ...]:
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for candidate in range(2, math.isqrt(limit - 1) + 1):
        if sieve[candidate]:
            sieve[candidate * candidate :: candidate] = bytes(len(range(candidate * candidate, limit, candidate)))
    return tuple(index for index, is_prime in enumerate(sieve) if is_prime)


_TRIAL_PRIMES: Final = _primes_below(1988)  # 300 primes: one big gcd removes most composites
_TRIAL_PRODUCT: Final = math.prod(_TRIAL_PRIMES)


def small_primes() -> tuple[int, ...]:
    """The primes below ``SMOOTHNESS_BOUND`` (sieved once, on first use)."""
    return _primes_below(SMOOTHNESS_BOUND)


def jacobi(a: int, n: int) -> int:
    """The Jacobi symbol (a/n) for odd positive ``n``: -1, 0 or 1. For a prime ``n`` it is the Legendre symbol:
    1 when ``a`` is a nonzero square modulo ``n``."""
    if n <= 0 or n % 2 == 0:
        raise ValueError("the Jacobi symbol needs an odd positive n")
    a %= n
    result = 1
    while a:
        while a % 2 == 0:
            a //= 2
            if n % 8 in (3, 5):
                result = -result
        a, n = n, a
        if a % 4 == 3 and n % 4 == 3:
            result = -result
        a %= n
    return result if n == 1 else 0


def _miller_rabin(n: int, base: int, odd_part: int, twos: int) -> bool:
    x = pow(base, odd_part, n)
    if x in (1, n - 1):
        return True
    for _ in range(twos - 1):
        x = x * x % n
        if x == n - 1:
            return True
        if x == 1:
            return False
    return False


def _derived_bases(n: int, count: int) -> list[int]:
    """``count`` bases in [2, n - 2] drawn from SHA-256 of ``n`` (counter mode): fixed once ``n`` is."""
    seed = n.to_bytes((n.bit_length() + 7) // 8, "big")
    width = (n.bit_length() + 7) // 8 + 8  # 64 extra bits make the reduction's bias negligible
    bases = []
    for index in range(count):
        stream = b"".join(
            hashlib.sha256(index.to_bytes(4, "big") + block.to_bytes(4, "big") + seed).digest()
            for block in range((width + 31) // 32)
        )
        bases.append(2 + int.from_bytes(stream[:width], "big") % (n - 3))
    return bases


def _lucas_v_pair(n: int, k: int, p: int) -> tuple[int, int]:
    """V_k and V_(k+1) modulo ``n`` of the Lucas sequence with parameters (P, 1): a ladder of two products a bit."""
    v, v_next = 2, p % n  # V_0, V_1
    for bit in bin(k)[2:]:
        if bit == "1":
            v, v_next = (v * v_next - p) % n, (v_next * v_next - 2) % n
        else:
            v, v_next = (v * v - 2) % n, (v * v_next - p) % n
    return v, v_next


def _extra_strong_lucas(n: int) -> bool:
    """The extra strong Lucas probable-prime test (Grantham, "Frobenius pseudoprimes", Math. Comp. 70 (2001)):
    Q = 1 and the first P = 3, 4, ... with ((P^2 - 4)/n) = -1, so that only V is needed (about two modular
    exponentiations' worth of products, where the strong test with Selfridge's parameters costs five)."""
    if math.isqrt(n) ** 2 == n:
        return False  # no P with ((P^2 - 4)/n) = -1 exists for a square
    p = 3
    while (symbol := jacobi(p * p - 4, n)) != -1:
        if symbol == 0 and p * p - 4 != n:
            return False
        p += 1
    odd_part, twos = n + 1, 0
    while odd_part % 2 == 0:
        odd_part //= 2
        twos += 1
    v, v_next = _lucas_v_pair(n, odd_part, p)
    # U_d = (2 V_(d+1) - P V_d) / D, and D is invertible modulo n: U_d = 0 exactly when the numerator is.
    if (2 * v_next - p * v) % n == 0 and v in (2, n - 2):
        return True
    for _ in range(twos - 1):
        if v == 0:
            return True
        v = (v * v - 2) % n
    return False


def is_probable_prime(n: int) -> bool:
    """Whether ``n`` is prime: exact below 1987^2, else Baillie-PSW plus ``EXTRA_ROUNDS`` Miller-Rabin rounds
    with bases derived from ``n`` (see the module docstring). ``ValueError`` above ``MAX_TESTED_BITS``."""
    if n.bit_length() > MAX_TESTED_BITS:
        raise ValueError(f"numbers over {MAX_TESTED_BITS} bits are not tested")
    if n < 2:
        return False
    if n <= _TRIAL_PRIMES[-1]:
        return n in _TRIAL_PRIMES
    if math.gcd(n, _TRIAL_PRODUCT) != 1:
        return False
    if n < _TRIAL_PRIMES[-1] ** 2:
        return True
    odd_part, twos = n - 1, 0
    while odd_part % 2 == 0:
        odd_part //= 2
        twos += 1
    if not _miller_rabin(n, 2, odd_part, twos) or not _extra_strong_lucas(n):
        return False
    return all(_miller_rabin(n, base, odd_part, twos) for base in _derived_bases(n, EXTRA_ROUNDS))


def smooth_part(n: int) -> tuple[tuple[int, ...], int]:
    """``n`` split as (its prime factors below ``SMOOTHNESS_BOUND``, with multiplicity, in increasing order; the
    rest). The product of the factors times the rest is ``n``; the rest has no prime factor below the bound."""
    factors: list[int] = []
    rest = n
    for prime in small_primes():
        if prime * prime > rest:
            break
        while rest % prime == 0:
            factors.append(prime)
            rest //= prime
    if 1 < rest < SMOOTHNESS_BOUND:  # what is left below the bound is itself a small prime
        factors.append(rest)
        rest = 1
    return tuple(factors), rest


def proves_prime_by_pocklington(n: int, factors: tuple[int, ...], prime_part: int) -> bool | None:
    """Pocklington's criterion for ``n`` when ``n - 1`` = product(``factors``) * ``prime_part``, with
    ``prime_part`` prime and larger than sqrt(n): True (proven prime), False (proven composite: a Fermat witness),
    or None when the few bases tried do not decide. One modular exponentiation per base, instead of a probable-prime
    test of ``n``."""
    cofactor = math.prod(factors)
    if prime_part * prime_part <= n or cofactor * prime_part != n - 1:
        raise ValueError("Pocklington's criterion needs n - 1 = cofactor * prime_part with prime_part > sqrt(n)")
    for base in _TRIAL_PRIMES[:8]:
        if pow(base, n - 1, n) != 1:
            return False
        if math.gcd(pow(base, cofactor, n) - 1, n) == 1:
            return True
    return None
