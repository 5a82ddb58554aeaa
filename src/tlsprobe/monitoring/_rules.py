"""What makes a change between two scans worse or better: the judgements ``diff_scans`` applies, in one place.

They read the JSON form (a cipher suite's or a group's catalogue entry as the scan wrote it), so that a scan read
back from a file or a store is judged exactly like one in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tlsprobe.wire._catalogue_types import GroupKind, KeyExchange

DEPRECATED_VERSIONS: Final = frozenset({"ssl2", "ssl3", "tls1_0", "tls1_1"})
"""Versions whose enabling is worse and whose removal is better (RFC 6176, RFC 7568, RFC 8996)."""

MODERN_VERSION: Final = "tls1_3"
"""The version whose enabling is better and whose removal is worse."""

MIN_EC_GROUP_BITS: Final = 224
"""Elliptic curves smaller than this are weak (secp160r1, secp192r1, sect163k1...): below 112-bit security."""

MIN_FFDHE_GROUP_BITS: Final = 2048
"""Finite-field groups smaller than this are weak (Logjam)."""

_POST_QUANTUM_KINDS: Final = frozenset({GroupKind.HYBRID_PQ.value, GroupKind.PQ.value})


def _forward_secret(key_exchange: object) -> bool:
    try:
        return KeyExchange(key_exchange).is_ephemeral
    except ValueError:  # a name this version does not know: no claim of forward secrecy
        return False


def suite_weaknesses(suite: Mapping[str, Any]) -> tuple[str, ...]:
    """Why a cipher suite (its JSON catalogue entry) is weak, in words; empty for a strong suite.

    Weak: no forward secrecy (a static RSA or DH key exchange), not AEAD (CBC and stream ciphers), anonymous,
    export-grade, no encryption (NULL), 3DES, DES or RC4."""
    reasons: list[str] = []
    encryption = str(suite.get("encryption", "")).upper()
    if encryption.startswith("NULL") or suite.get("key_size") == 0:
        reasons.append("no encryption")
    if suite.get("is_anonymous"):
        reasons.append("anonymous")
    if suite.get("is_export"):
        reasons.append("export-grade")
    if "RC4" in encryption:
        reasons.append("RC4")
    if "3DES" in encryption or "EDE3" in encryption:  # SSL 2.0 names it DES_192_EDE3_CBC
        reasons.append("3DES")
    elif encryption.startswith("DES"):
        reasons.append("DES")
    if not _forward_secret(suite.get("key_exchange")):
        reasons.append("no forward secrecy")
    if not suite.get("is_aead"):
        reasons.append("not AEAD")
    return tuple(reasons)


def group_is_weak(group: Mapping[str, Any]) -> bool:
    """An elliptic curve under 224 bits or a finite-field group under 2048 bits (its JSON catalogue entry)."""
    size = group.get("size")
    if not isinstance(size, int):
        return False
    if group.get("kind") == GroupKind.EC.value:
        return size < MIN_EC_GROUP_BITS
    if group.get("kind") == GroupKind.FFDHE.value:
        return size < MIN_FFDHE_GROUP_BITS
    return False


def group_is_post_quantum(group: Mapping[str, Any]) -> bool:
    """A post-quantum or hybrid group: enabling it is better, removing it worse."""
    return group.get("kind") in _POST_QUANTUM_KINDS
