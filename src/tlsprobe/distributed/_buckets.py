"""Which bucket a server goes to: a rendezvous hash of its resolved address, pure and stable across processes.

Why buckets keyed by IP: the politeness budgets (``Limits.max_connections_per_server`` per IP and port,
``Limits.max_connections_per_ip`` per IP) live in one ``Scanner``. Every name and port of one IP must therefore be
scanned by one worker at a time, so that one scanner holds all its connections: all targets of an IP land in one
bucket, and a bucket is run by one worker at a time. Many more buckets than workers keep the buckets small (a
worker that dies costs one small bucket) and the load even (any worker takes any bucket, largest first).

Why rendezvous hashing: the bucket of an address depends only on the address and the number of buckets, never on
the workers, so adding machines moves no target between buckets. Scoring every bucket would cost one hash per
bucket and target (thousands per target at scale), so the buckets form a square grid and the hash picks a row,
then a column of that row (skeleton rendezvous hashing): ``2 * sqrt(buckets)`` scores per target, each bucket as
likely as any other.
"""

from __future__ import annotations

import hashlib
import math
from typing import Final

BUCKETS_PER_WORKER: Final = 64
"""Buckets per worker by default: small units of work, and a worker that dies re-runs little."""

_MASK: Final = (1 << 64) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15
_MIX_1: Final = 0xBF58476D1CE4E5B9
_MIX_2: Final = 0x94D049BB133111EB


def bucket_count(workers: int, per_worker: int = BUCKETS_PER_WORKER) -> int:
    """How many buckets for ``workers`` workers: ``per_worker`` each, rounded up to a square (the hash's grid)."""
    if workers < 1 or per_worker < 1:
        raise ValueError("workers and buckets per worker must be at least 1")
    return square_at_least(workers * per_worker)


def square_at_least(count: int) -> int:
    """The smallest square number that is at least ``count``."""
    side = math.isqrt(max(count, 1) - 1) + 1
    return side * side


def bucket_of(key: str, buckets: int) -> int:
    """The bucket of ``key`` (an address, see ``planning``) among ``buckets`` (a square number), 0-based.

    :raises ValueError: ``buckets`` is not a positive square number.
    """
    side = math.isqrt(buckets)
    if buckets < 1 or side * side != buckets:
        raise ValueError(f"the number of buckets must be a positive square number, not {buckets}")
    digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=16).digest(), "big")
    row = _highest(digest & _MASK, side)
    # The column's seed depends on the row, so that each row spreads its keys independently.
    return row * side + _highest((digest >> 64) ^ (row * _MIX_1 & _MASK), side)


def _highest(seed: int, candidates: int) -> int:
    """The candidate scoring highest for ``seed`` (rendezvous hashing), scored by a SplitMix64-style finaliser;
    written out as a loop because this runs once per candidate for every target of a large scan."""
    best_score = -1
    best = 0
    for candidate in range(candidates):
        score = ((seed ^ (candidate * _GOLDEN)) * _MIX_1) & _MASK
        score = ((score ^ (score >> 29)) * _MIX_2) & _MASK
        score ^= score >> 32
        if score > best_score:
            best_score = score
            best = candidate
    return best
