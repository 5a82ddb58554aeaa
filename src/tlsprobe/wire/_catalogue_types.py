"""Record types of the cipher-suite and named-group catalogues (the data is in ``_suites``, ``_groups``)."""

from __future__ import annotations

import enum

import attrs

from tlsprobe.wire._versions import TLSVersion


class KeyExchange(enum.Enum):
    """How a cipher suite agrees on keys."""

    RSA = "RSA"
    DH = "DH"  # static DH (DH_RSA, DH_DSS, DH_anon)
    DHE = "DHE"
    ECDH = "ECDH"  # static ECDH (ECDH_ECDSA, ECDH_RSA, ECDH_anon)
    ECDHE = "ECDHE"
    PSK = "PSK"
    DHE_PSK = "DHE_PSK"
    ECDHE_PSK = "ECDHE_PSK"
    RSA_PSK = "RSA_PSK"
    SRP = "SRP"
    KRB5 = "KRB5"
    ECCPWD = "ECCPWD"
    GOST = "GOST"
    NULL = "NULL"  # TLS_NULL_WITH_NULL_NULL
    TLS13 = "TLS13"  # TLS 1.3 suites: key exchange is negotiated separately (key_share)

    @property
    def is_ephemeral(self) -> bool:
        """Whether the suite gives forward secrecy."""
        return self in {
            KeyExchange.DHE,
            KeyExchange.ECDHE,
            KeyExchange.DHE_PSK,
            KeyExchange.ECDHE_PSK,
            KeyExchange.TLS13,
        }


class GroupKind(enum.Enum):
    """The family of a named group."""

    EC = "ec"  # elliptic curves and the X25519/X448 Montgomery curves
    FFDHE = "ffdhe"  # RFC 7919 finite-field groups
    HYBRID_PQ = "hybrid_pq"  # classical + post-quantum hybrids, e.g. X25519MLKEM768
    PQ = "pq"  # pure post-quantum KEMs, e.g. MLKEM768


@attrs.frozen(kw_only=True)
class CipherSuite:
    """One cipher suite from the IANA registry (or an SSL 2.0 cipher kind)."""

    code: int
    """The IANA code: two bytes (``0xC02F``), or three bytes for SSL 2.0 cipher kinds (``0x010080``)."""
    name: str
    """The IANA name, e.g. ``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``; SSL 2.0: ``SSL_CK_RC4_128_WITH_MD5``."""
    openssl_name: str | None
    """OpenSSL's name, e.g. ``ECDHE-RSA-AES128-GCM-SHA256``, or None when OpenSSL has no name for it."""
    key_exchange: KeyExchange
    """How keys are agreed."""
    authentication: str
    """Server authentication: ``RSA``, ``ECDSA``, ``DSS``, ``PSK``, ``anon``, ``NULL``, ...
    (``ANY`` for TLS 1.3)."""
    encryption: str
    """Bulk cipher with its mode, e.g. ``AES_128_GCM``, ``CHACHA20_POLY1305``, ``3DES_EDE_CBC``, ``NULL``."""
    key_size: int
    """Effective key bits of the bulk cipher (0 for NULL; 40 for EXPORT40 suites; 112 for 3DES)."""
    mac: str
    """The MAC, or for AEAD suites the PRF hash: ``SHA``, ``SHA256``, ``SHA384``, ``MD5``, ``NULL``; for GOST
    suites the IANA term (``OMAC``, ``IMIT``, ``GOSTR341112_256``), for SM4 ``SM3``."""
    is_anonymous: bool
    """No server authentication at all (``anon`` suites and ``NULL_WITH_NULL_NULL``)."""
    is_export: bool
    """An EXPORT-grade suite."""
    is_aead: bool
    """GCM, CCM and ChaCha20-Poly1305 suites (and the GOST MGM and AEGIS TLS 1.3 suites)."""
    versions: frozenset[TLSVersion]
    """The protocol versions this suite can be negotiated with."""


@attrs.frozen(kw_only=True)
class NamedGroup:
    """One entry of the IANA TLS Supported Groups registry."""

    code: int
    """The two-byte IANA code, e.g. ``0x001D`` for x25519."""
    name: str
    """The IANA name, e.g. ``x25519``, ``secp256r1``, ``ffdhe2048``, ``X25519MLKEM768``."""
    kind: GroupKind
    """The family of the group."""
    size: int
    """Classical security-relevant size in bits: the curve size (x25519: 253 as OpenSSL reports it,
    secp256r1: 256), the prime size for FFDHE, and for hybrids the size of the classical component."""
    tls13: bool
    """Whether the group may be used under TLS 1.3."""
    tls12: bool
    """Whether the group may be used under TLS 1.2 and below (RFC 8422 curves and RFC 7919 groups;
    post-quantum groups are TLS 1.3 only)."""
