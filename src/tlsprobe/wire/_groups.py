"""The named-group catalogue: the entries of the IANA "TLS Supported Groups" registry.

The facts come from the IANA registry (https://www.iana.org/assignments/tls-parameters/, "TLS Supported
Groups") and the documents it cites: RFC 8422 (the SEC 2 curves 1-25, x25519 and x448 for TLS 1.2), RFC 7027
(brainpool curves for TLS 1.2), RFC 8734 (brainpool curves for TLS 1.3), RFC 8446 (which groups TLS 1.3
keeps), RFC 9189 and RFC 9367 (GOST curves), RFC 8998 (curveSM2), RFC 7919 (FFDHE groups),
draft-connolly-tls-mlkem-key-agreement (pure ML-KEM), draft-kwiatkowski-tls-ecdhe-mlkem (ECDHE + ML-KEM
hybrids), draft-tls-westerbaan-xyber768d00 and draft-kwiatkowski-tls-ecdhe-kyber (the pre-standard Kyber
hybrids, marked obsolete by IANA but still deployed).

Left out: the reserved value 0, GREASE values (RFC 8701), the private-use ranges, and the deprecated
``arbitrary_explicit_prime_curves`` / ``arbitrary_explicit_char2_curves`` (0xFF01, 0xFF02), which name no
group.

``tls13``: RFC 8446 keeps only secp256r1, secp384r1, secp521r1, x25519, x448 and the FFDHE groups; RFC 8734,
RFC 9367, RFC 8998 and the post-quantum drafts add their groups for TLS 1.3 only (the GOST curves are also
TLS 1.2 groups under RFC 9189). ``size`` is the classical size in bits: the curve's field size (x25519 is 253
bits as OpenSSL reports it), the prime size of an FFDHE group, the classical half of a hybrid, and for the
pure ML-KEM groups (no classical part) the NIST security category as equivalent symmetric bits: 128, 192, 256.
"""

from __future__ import annotations

from tlsprobe.wire._catalogue_types import GroupKind, NamedGroup
from tlsprobe.wire._versions import TLSVersion

_EC = GroupKind.EC
_FFDHE = GroupKind.FFDHE
_HYBRID = GroupKind.HYBRID_PQ
_PQ = GroupKind.PQ


def _g(code: int, name: str, kind: GroupKind, size: int, *, tls12: bool, tls13: bool) -> NamedGroup:
    return NamedGroup(code=code, name=name, kind=kind, size=size, tls12=tls12, tls13=tls13)


# In IANA code order.
NAMED_GROUPS: tuple[NamedGroup, ...] = (
    # RFC 8422 binary curves: TLS 1.2 and below only.
    _g(0x0001, "sect163k1", _EC, 163, tls12=True, tls13=False),
    _g(0x0002, "sect163r1", _EC, 163, tls12=True, tls13=False),
    _g(0x0003, "sect163r2", _EC, 163, tls12=True, tls13=False),
    _g(0x0004, "sect193r1", _EC, 193, tls12=True, tls13=False),
    _g(0x0005, "sect193r2", _EC, 193, tls12=True, tls13=False),
    _g(0x0006, "sect233k1", _EC, 233, tls12=True, tls13=False),
    _g(0x0007, "sect233r1", _EC, 233, tls12=True, tls13=False),
    _g(0x0008, "sect239k1", _EC, 239, tls12=True, tls13=False),
    _g(0x0009, "sect283k1", _EC, 283, tls12=True, tls13=False),
    _g(0x000A, "sect283r1", _EC, 283, tls12=True, tls13=False),
    _g(0x000B, "sect409k1", _EC, 409, tls12=True, tls13=False),
    _g(0x000C, "sect409r1", _EC, 409, tls12=True, tls13=False),
    _g(0x000D, "sect571k1", _EC, 571, tls12=True, tls13=False),
    _g(0x000E, "sect571r1", _EC, 571, tls12=True, tls13=False),
    # RFC 8422 prime curves; TLS 1.3 keeps only secp256r1, secp384r1 and secp521r1.
    _g(0x000F, "secp160k1", _EC, 160, tls12=True, tls13=False),
    _g(0x0010, "secp160r1", _EC, 160, tls12=True, tls13=False),
    _g(0x0011, "secp160r2", _EC, 160, tls12=True, tls13=False),
    _g(0x0012, "secp192k1", _EC, 192, tls12=True, tls13=False),
    _g(0x0013, "secp192r1", _EC, 192, tls12=True, tls13=False),
    _g(0x0014, "secp224k1", _EC, 224, tls12=True, tls13=False),
    _g(0x0015, "secp224r1", _EC, 224, tls12=True, tls13=False),
    _g(0x0016, "secp256k1", _EC, 256, tls12=True, tls13=False),
    _g(0x0017, "secp256r1", _EC, 256, tls12=True, tls13=True),
    _g(0x0018, "secp384r1", _EC, 384, tls12=True, tls13=True),
    _g(0x0019, "secp521r1", _EC, 521, tls12=True, tls13=True),
    # RFC 7027 brainpool curves (TLS 1.2 and below); RFC 8734 gives TLS 1.3 its own code points (31-33).
    _g(0x001A, "brainpoolP256r1", _EC, 256, tls12=True, tls13=False),
    _g(0x001B, "brainpoolP384r1", _EC, 384, tls12=True, tls13=False),
    _g(0x001C, "brainpoolP512r1", _EC, 512, tls12=True, tls13=False),
    _g(0x001D, "x25519", _EC, 253, tls12=True, tls13=True),
    _g(0x001E, "x448", _EC, 448, tls12=True, tls13=True),
    _g(0x001F, "brainpoolP256r1tls13", _EC, 256, tls12=False, tls13=True),
    _g(0x0020, "brainpoolP384r1tls13", _EC, 384, tls12=False, tls13=True),
    _g(0x0021, "brainpoolP512r1tls13", _EC, 512, tls12=False, tls13=True),
    # GOST R 34.10-2012 curves: RFC 9189 (TLS 1.2) and RFC 9367 (TLS 1.3).
    _g(0x0022, "GC256A", _EC, 256, tls12=True, tls13=True),
    _g(0x0023, "GC256B", _EC, 256, tls12=True, tls13=True),
    _g(0x0024, "GC256C", _EC, 256, tls12=True, tls13=True),
    _g(0x0025, "GC256D", _EC, 256, tls12=True, tls13=True),
    _g(0x0026, "GC512A", _EC, 512, tls12=True, tls13=True),
    _g(0x0027, "GC512B", _EC, 512, tls12=True, tls13=True),
    _g(0x0028, "GC512C", _EC, 512, tls12=True, tls13=True),
    # RFC 8998: SM2 for TLS 1.3 only.
    _g(0x0029, "curveSM2", _EC, 256, tls12=False, tls13=True),
    # RFC 7919 finite-field groups.
    _g(0x0100, "ffdhe2048", _FFDHE, 2048, tls12=True, tls13=True),
    _g(0x0101, "ffdhe3072", _FFDHE, 3072, tls12=True, tls13=True),
    _g(0x0102, "ffdhe4096", _FFDHE, 4096, tls12=True, tls13=True),
    _g(0x0103, "ffdhe6144", _FFDHE, 6144, tls12=True, tls13=True),
    _g(0x0104, "ffdhe8192", _FFDHE, 8192, tls12=True, tls13=True),
    # Pure ML-KEM (FIPS 203), TLS 1.3 only. No classical part: size is the NIST category in symmetric bits.
    _g(0x0200, "MLKEM512", _PQ, 128, tls12=False, tls13=True),
    _g(0x0201, "MLKEM768", _PQ, 192, tls12=False, tls13=True),
    _g(0x0202, "MLKEM1024", _PQ, 256, tls12=False, tls13=True),
    # ECDHE + ML-KEM hybrids, TLS 1.3 only; size is that of the classical curve.
    _g(0x11EB, "SecP256r1MLKEM768", _HYBRID, 256, tls12=False, tls13=True),
    _g(0x11EC, "X25519MLKEM768", _HYBRID, 253, tls12=False, tls13=True),
    _g(0x11ED, "SecP384r1MLKEM1024", _HYBRID, 384, tls12=False, tls13=True),
    # Pre-standard Kyber hybrids (IANA: obsolete), still offered by some deployed software.
    _g(0x6399, "X25519Kyber768Draft00", _HYBRID, 253, tls12=False, tls13=True),
    _g(0x639A, "SecP256r1Kyber768Draft00", _HYBRID, 256, tls12=False, tls13=True),
)

_BY_CODE: dict[int, NamedGroup] = {group.code: group for group in NAMED_GROUPS}
_BY_NAME: dict[str, NamedGroup] = {group.name: group for group in NAMED_GROUPS}
_BY_LOWER_NAME: dict[str, NamedGroup] = {group.name.lower(): group for group in NAMED_GROUPS}

# Scan order: the groups real servers pick come first, then the rest in code order.
_COMMON_FIRST = (
    0x001D,  # x25519
    0x0017,  # secp256r1
    0x11EC,  # X25519MLKEM768
    0x0018,  # secp384r1
    0x0019,  # secp521r1
    0x001E,  # x448
    0x0100,  # ffdhe2048
    0x0101,  # ffdhe3072
    0x0102,  # ffdhe4096
    0x11EB,  # SecP256r1MLKEM768
    0x11ED,  # SecP384r1MLKEM1024
    0x6399,  # X25519Kyber768Draft00
    0x001A,  # brainpoolP256r1
    0x001B,  # brainpoolP384r1
    0x001C,  # brainpoolP512r1
    0x0016,  # secp256k1
)


def _scan_order(group: NamedGroup) -> tuple[int, int]:
    if group.code in _COMMON_FIRST:
        return (0, _COMMON_FIRST.index(group.code))
    return (1, group.code)


def _groups_by_version() -> dict[TLSVersion, tuple[NamedGroup, ...]]:
    ordered = sorted(NAMED_GROUPS, key=_scan_order)
    tls12 = tuple(group for group in ordered if group.tls12)
    table = dict.fromkeys(TLSVersion, tls12)
    table[TLSVersion.TLS1_3] = tuple(group for group in ordered if group.tls13)
    table[TLSVersion.SSL2] = ()
    return table


_BY_VERSION = _groups_by_version()


def named_group_by_code(code: int) -> NamedGroup | None:
    """The group with this IANA code; None if unknown."""
    return _BY_CODE.get(code)


def named_group_by_name(name: str) -> NamedGroup | None:
    """The group with this IANA name, matched exactly or else case-insensitively; None if unknown."""
    group = _BY_NAME.get(name)
    if group is None:
        group = _BY_LOWER_NAME.get(name.lower())
    return group


def groups_for_version(version: TLSVersion) -> tuple[NamedGroup, ...]:
    """The groups that can be negotiated with ``version``, the commonly deployed ones first.

    TLS 1.3 gives the TLS 1.3 groups; SSL 3.0 to TLS 1.2 the RFC 8422/7027/7919/9189 groups (the
    supported_groups extension is a TLS extension, but OpenSSL honours it over SSL 3.0 too); SSL 2.0 has none.
    """
    return _BY_VERSION[version]
