"""The TLS SignatureScheme registry entries a scanner offers and reads.

Codes are those of the IANA "TLS SignatureScheme" registry (RFC 8446 §4.2.3); the legacy ones are the
TLS 1.2 SignatureAndHashAlgorithm pairs (hash, signature) of RFC 5246 §7.4.1.4.1 read as one 16-bit number.
References: RFC 8446, RFC 5246, RFC 8734 (brainpool for TLS 1.3), RFC 9189 (GOST, 0x0840/0x0841),
draft-ietf-tls-mldsa (ML-DSA).
"""

from __future__ import annotations

import attrs


@attrs.frozen
class SignatureScheme:
    """One signature scheme: its two-byte code and IANA name."""

    code: int
    name: str


SIGNATURE_SCHEMES: tuple[SignatureScheme, ...] = (
    SignatureScheme(0x0101, "rsa_pkcs1_md5"),
    SignatureScheme(0x0201, "rsa_pkcs1_sha1"),
    SignatureScheme(0x0202, "dsa_sha1"),
    SignatureScheme(0x0203, "ecdsa_sha1"),
    SignatureScheme(0x0301, "rsa_pkcs1_sha224"),
    SignatureScheme(0x0302, "dsa_sha224"),
    SignatureScheme(0x0303, "ecdsa_sha224"),
    SignatureScheme(0x0401, "rsa_pkcs1_sha256"),
    SignatureScheme(0x0402, "dsa_sha256"),
    SignatureScheme(0x0403, "ecdsa_secp256r1_sha256"),
    SignatureScheme(0x0501, "rsa_pkcs1_sha384"),
    SignatureScheme(0x0502, "dsa_sha384"),
    SignatureScheme(0x0503, "ecdsa_secp384r1_sha384"),
    SignatureScheme(0x0601, "rsa_pkcs1_sha512"),
    SignatureScheme(0x0602, "dsa_sha512"),
    SignatureScheme(0x0603, "ecdsa_secp521r1_sha512"),
    SignatureScheme(0x0804, "rsa_pss_rsae_sha256"),
    SignatureScheme(0x0805, "rsa_pss_rsae_sha384"),
    SignatureScheme(0x0806, "rsa_pss_rsae_sha512"),
    SignatureScheme(0x0807, "ed25519"),
    SignatureScheme(0x0808, "ed448"),
    SignatureScheme(0x0809, "rsa_pss_pss_sha256"),
    SignatureScheme(0x080A, "rsa_pss_pss_sha384"),
    SignatureScheme(0x080B, "rsa_pss_pss_sha512"),
    SignatureScheme(0x081A, "ecdsa_brainpoolP256r1tls13_sha256"),
    SignatureScheme(0x081B, "ecdsa_brainpoolP384r1tls13_sha384"),
    SignatureScheme(0x081C, "ecdsa_brainpoolP512r1tls13_sha512"),
    SignatureScheme(0x0840, "gostr34102012_256"),
    SignatureScheme(0x0841, "gostr34102012_512"),
    SignatureScheme(0x0904, "mldsa44"),
    SignatureScheme(0x0905, "mldsa65"),
    SignatureScheme(0x0906, "mldsa87"),
)

_BY_CODE = {scheme.code: scheme for scheme in SIGNATURE_SCHEMES}

# Offered by default so that any server finds a scheme it can sign with. MD5 is left out because RFC 8446
# §4.2.3 forbids offering it, ML-DSA because its code points are still a draft: both are for dedicated probes.
DEFAULT_SIGNATURE_ALGORITHMS: tuple[int, ...] = tuple(
    scheme.code for scheme in SIGNATURE_SCHEMES if not scheme.name.startswith(("mldsa", "rsa_pkcs1_md5"))
)


def signature_scheme_by_code(code: int) -> SignatureScheme | None:
    """The registry entry for a two-byte code, or None when tlsprobe does not know it."""
    return _BY_CODE.get(code)
