"""RSA key exchange: the ClientKeyExchange and the PKCS#1 v1.5 blocks of the ROBOT probe.

With RSA key exchange the client encrypts a 48-byte premaster secret (the client's version, then 46 random bytes)
to the server's RSA key, padded as PKCS#1 v1.5 block type 2: ``00 02 | nonzero padding | 00 | premaster``.
A server that answers differently depending on how that padding is wrong is a Bleichenbacher oracle (ROBOT,
CVE-2017-13099 and the vendor CVEs of https://robotattack.org). The malformations are the ones of the ROBOT
paper (Böck, Somorovsky, Young, 2018): wrong first two bytes, no 00 separator, a misplaced 00 separator (the
premaster is then not 48 bytes long), and a wrong version inside the premaster.
References: RFC 8017 §7.2.1 (EME-PKCS1-v1_5), RFC 5246 §7.4.7.1, RFC 6101 §5.6.7.1 (SSL 3.0 sends no length).
"""

from __future__ import annotations

import enum
import os

from tlsprobe.wire._constants import HandshakeType
from tlsprobe.wire._versions import TLSVersion

PREMASTER_LENGTH = 48
_MIN_BLOCK_LENGTH = 2 + 8 + 1 + PREMASTER_LENGTH


class PaddingVariant(enum.Enum):
    """How a PKCS#1 v1.5 block sent to the server is formed."""

    valid = "valid"
    """Well formed: 00 02, nonzero padding, 00, a premaster with the right version."""
    wrong_first_bytes = "wrong_first_bytes"
    """Starts 41 17 instead of 00 02."""
    separator_misplaced = "separator_misplaced"
    """The 00 separator sits too far right, so the premaster would be 2 bytes long."""
    no_separator = "no_separator"
    """No 00 byte after 00 02 at all."""
    wrong_version = "wrong_version"
    """Well padded, but the premaster names version 02 02."""


def _nonzero_bytes(count: int) -> bytes:
    out = bytearray()
    while len(out) < count:
        out += bytes(byte for byte in os.urandom(count) if byte)
    return bytes(out[:count])


def padded_premaster(variant: PaddingVariant, modulus_length: int, client_version: TLSVersion) -> bytes:
    """The ``modulus_length``-byte block to encrypt for ``variant`` (random bytes are never zero)."""
    if modulus_length < _MIN_BLOCK_LENGTH:
        raise ValueError(f"an RSA modulus of {modulus_length} bytes cannot carry a premaster secret")
    version = client_version.wire_code.to_bytes(2, "big")
    padding = _nonzero_bytes(modulus_length - 3 - PREMASTER_LENGTH)
    secret = _nonzero_bytes(PREMASTER_LENGTH - 2)
    if variant is PaddingVariant.valid:
        return b"\x00\x02" + padding + b"\x00" + version + secret
    if variant is PaddingVariant.wrong_first_bytes:
        return b"\x41\x17" + padding + b"\x00" + version + secret
    if variant is PaddingVariant.separator_misplaced:
        return b"\x00\x02" + padding + b"\x11" + version + secret[:-3] + b"\x00" + secret[-2:]
    if variant is PaddingVariant.no_separator:
        return b"\x00\x02" + padding + b"\x11" + version + secret
    return b"\x00\x02" + padding + b"\x00" + b"\x02\x02" + secret


def rsa_encrypt_block(block: bytes, modulus: int, exponent: int) -> bytes:
    """Textbook RSA of an already padded block (the point is to send malformed padding)."""
    length = (modulus.bit_length() + 7) // 8
    if len(block) != length:
        raise ValueError(f"block of {len(block)} bytes for a {length}-byte modulus")
    return pow(int.from_bytes(block, "big"), exponent, modulus).to_bytes(length, "big")


def rsa_client_key_exchange(encrypted_premaster: bytes, version: TLSVersion) -> bytes:
    """The ClientKeyExchange handshake message (SSL 3.0 sends the ciphertext without its length)."""
    if version is TLSVersion.SSL3:
        body = encrypted_premaster
    else:
        body = len(encrypted_premaster).to_bytes(2, "big") + encrypted_premaster
    return bytes((HandshakeType.client_key_exchange,)) + len(body).to_bytes(3, "big") + body
