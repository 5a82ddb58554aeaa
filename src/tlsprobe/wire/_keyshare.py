"""Client key shares for TLS 1.3 KeyShareEntry.key_exchange, one throw-away key per group and process.

Each key is generated once per process and reused for every hello: probes that only need the server to pick a
group never complete the handshake. The private halves are kept, so that ``shared_secret`` can compute the
(EC)DHE secret from the server's share and the server's encrypted flight can be read (``wire._tls13``).
ML-KEM keys are built for their structure only and cannot be decapsulated: ``supports_decryption`` says which
groups allow it.
References: RFC 8446 §4.2.8.2 (ECDHE and X25519/X448 encodings), §4.2.8.1 (FFDHE, left-padded to the prime
length), §7.4.1 (FFDHE shared secret, left-padded to the prime size) and §7.4.2 (ECDHE shared secret: the
x-coordinate; X25519/X448 with the all-zero check of RFC 7748 §6); RFC 7919 appendix A (the FFDHE primes,
generator 2) and §5.1 (checking the peer's public value); FIPS 203 (ML-KEM encapsulation keys);
draft-ietf-tls-mlkem (MLKEM512/768/1024); draft-ietf-tls-ecdhe-mlkem (X25519MLKEM768, SecP256r1MLKEM768,
SecP384r1MLKEM1024); draft-tls-westerbaan-xyber768d00 (X25519Kyber768Draft00).
"""

from __future__ import annotations

import functools
import os
import secrets
import threading
import warnings
from typing import TypeAlias

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.utils import CryptographyDeprecationWarning

with warnings.catch_warnings():
    # cryptography 50 deprecates finite-field DH, warning when its names are looked up; a scanner still has to
    # speak the RFC 7919 groups to find the servers that accept them.
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from cryptography.hazmat.primitives.asymmetric.dh import (
        DHParameterNumbers,
        DHParameters,
        DHPrivateKey,
        DHPublicNumbers,
    )

# RFC 7919 appendix A; tests re-derive each from the RFC's formula in e.
_FFDHE_PRIMES_HEX: dict[int, str] = {
    0x0100: (  # ffdhe2048
        "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9"
        "7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"
        "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FB"
        "B96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"
        "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA"
        "886B423861285C97FFFFFFFFFFFFFFFF"
    ),
    0x0101: (  # ffdhe3072
        "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9"
        "7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"
        "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FB"
        "B96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"
        "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA"
        "886B4238611FCFDCDE355B3B6519035BBC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C"
        "AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF5CAE82AB9C9DF69EE86D2BC522363A0D"
        "ABC521979B0DEADA1DBF9A42D5C4484E0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B66C62E37FFFFFFFFFFFFFFFF"
    ),
    0x0102: (  # ffdhe4096
        "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9"
        "7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"
        "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FB"
        "B96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"
        "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA"
        "886B4238611FCFDCDE355B3B6519035BBC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C"
        "AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF5CAE82AB9C9DF69EE86D2BC522363A0D"
        "ABC521979B0DEADA1DBF9A42D5C4484E0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B669E1EF16E6F52C3164DF4FB"
        "7930E9E4E58857B6AC7D5F42D69F6D187763CF1D5503400487F55BA57E31CC7A7135C886EFB4318AED6A1E012D9E6832"
        "A907600A918130C46DC778F971AD0038092999A333CB8B7A1A1DB93D7140003C2A4ECEA9F98D0ACC0A8291CDCEC97DCF"
        "8EC9B55A7F88A46B4DB5A851F44182E1C68A007E5E655F6AFFFFFFFFFFFFFFFF"
    ),
    0x0103: (  # ffdhe6144
        "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9"
        "7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"
        "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FB"
        "B96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"
        "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA"
        "886B4238611FCFDCDE355B3B6519035BBC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C"
        "AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF5CAE82AB9C9DF69EE86D2BC522363A0D"
        "ABC521979B0DEADA1DBF9A42D5C4484E0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B669E1EF16E6F52C3164DF4FB"
        "7930E9E4E58857B6AC7D5F42D69F6D187763CF1D5503400487F55BA57E31CC7A7135C886EFB4318AED6A1E012D9E6832"
        "A907600A918130C46DC778F971AD0038092999A333CB8B7A1A1DB93D7140003C2A4ECEA9F98D0ACC0A8291CDCEC97DCF"
        "8EC9B55A7F88A46B4DB5A851F44182E1C68A007E5E0DD9020BFD64B645036C7A4E677D2C38532A3A23BA4442CAF53EA6"
        "3BB454329B7624C8917BDD64B1C0FD4CB38E8C334C701C3ACDAD0657FCCFEC719B1F5C3E4E46041F388147FB4CFDB477"
        "A52471F7A9A96910B855322EDB6340D8A00EF092350511E30ABEC1FFF9E3A26E7FB29F8C183023C3587E38DA0077D9B4"
        "763E4E4B94B2BBC194C6651E77CAF992EEAAC0232A281BF6B3A739C1226116820AE8DB5847A67CBEF9C9091B462D538C"
        "D72B03746AE77F5E62292C311562A846505DC82DB854338AE49F5235C95B91178CCF2DD5CACEF403EC9D1810C6272B04"
        "5B3B71F9DC6B80D63FDD4A8E9ADB1E6962A69526D43161C1A41D570D7938DAD4A40E329CD0E40E65FFFFFFFFFFFFFFFF"
    ),
    0x0104: (  # ffdhe8192
        "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9"
        "7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"
        "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FB"
        "B96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"
        "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA"
        "886B4238611FCFDCDE355B3B6519035BBC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C"
        "AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF5CAE82AB9C9DF69EE86D2BC522363A0D"
        "ABC521979B0DEADA1DBF9A42D5C4484E0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B669E1EF16E6F52C3164DF4FB"
        "7930E9E4E58857B6AC7D5F42D69F6D187763CF1D5503400487F55BA57E31CC7A7135C886EFB4318AED6A1E012D9E6832"
        "A907600A918130C46DC778F971AD0038092999A333CB8B7A1A1DB93D7140003C2A4ECEA9F98D0ACC0A8291CDCEC97DCF"
        "8EC9B55A7F88A46B4DB5A851F44182E1C68A007E5E0DD9020BFD64B645036C7A4E677D2C38532A3A23BA4442CAF53EA6"
        "3BB454329B7624C8917BDD64B1C0FD4CB38E8C334C701C3ACDAD0657FCCFEC719B1F5C3E4E46041F388147FB4CFDB477"
        "A52471F7A9A96910B855322EDB6340D8A00EF092350511E30ABEC1FFF9E3A26E7FB29F8C183023C3587E38DA0077D9B4"
        "763E4E4B94B2BBC194C6651E77CAF992EEAAC0232A281BF6B3A739C1226116820AE8DB5847A67CBEF9C9091B462D538C"
        "D72B03746AE77F5E62292C311562A846505DC82DB854338AE49F5235C95B91178CCF2DD5CACEF403EC9D1810C6272B04"
        "5B3B71F9DC6B80D63FDD4A8E9ADB1E6962A69526D43161C1A41D570D7938DAD4A40E329CCFF46AAA36AD004CF600C838"
        "1E425A31D951AE64FDB23FCEC9509D43687FEB69EDD1CC5E0B8CC3BDF64B10EF86B63142A3AB8829555B2F747C932665"
        "CB2C0F1CC01BD70229388839D2AF05E454504AC78B7582822846C0BA35C35F5C59160CC046FD8251541FC68C9C86B022"
        "BB7099876A460E7451A8A93109703FEE1C217E6C3826E52C51AA691E0E423CFC99E9E31650C1217B624816CDAD9A95F9"
        "D5B8019488D9C0A0A1FE3075A577E23183F81D4A3F2FA4571EFC8CE0BA8A4FE8B6855DFE72B0A66EDED2FBABFBE58A30"
        "FAFABE1C5D71A87E2F741EF8C1FE86FEA6BBFDE530677F0D97D11D49F7A8443D0822E506A9F4614E011E2A94838FF88C"
        "D68C8BB7C5C6424CFFFFFFFFFFFFFFFF"
    ),
}

_MLKEM_Q = 3329
_MLKEM_N = 256

_X25519, _X448 = 0x001D, 0x001E
_EC_CURVES: dict[int, type[ec.EllipticCurve]] = {
    0x0017: ec.SECP256R1,
    0x0018: ec.SECP384R1,
    0x0019: ec.SECP521R1,
}
# Hybrids concatenate the components in the order their specification gives.
_HYBRIDS: dict[int, tuple[int, int]] = {
    0x11EB: (0x0017, 0x0201),  # SecP256r1MLKEM768
    0x11EC: (0x0201, 0x001D),  # X25519MLKEM768
    0x11ED: (0x0018, 0x0202),  # SecP384r1MLKEM1024
    0x6399: (0x001D, 0x0201),  # X25519Kyber768Draft00
}
_MLKEM_RANKS = {0x0200: 2, 0x0201: 3, 0x0202: 4}

KeySharePrivateKey: TypeAlias = (
    x25519.X25519PrivateKey | x448.X448PrivateKey | ec.EllipticCurvePrivateKey | DHPrivateKey
)
"""The private half of a key share whose shared secret can be computed: (EC)DHE, X25519/X448 or FFDHE."""


def _ffdhe_parameters(group_code: int) -> DHParameters:
    return DHParameterNumbers(int(_FFDHE_PRIMES_HEX[group_code], 16), 2).parameters()


def _prime_length(prime: int) -> int:
    return (prime.bit_length() + 7) // 8


def mlkem_structural_encapsulation_key(k: int) -> bytes:
    """A random ML-KEM encapsulation key of rank ``k`` that passes the FIPS 203 §7.2 modulus check.

    ByteEncode12 of 256*k random coefficients below q = 3329, then a random 32-byte seed rho. A server can
    check only this encoding, not how the key was made, and the scanner never decapsulates.
    """
    encoded = bytearray()
    for _ in range(_MLKEM_N * k // 2):
        first, second = secrets.randbelow(_MLKEM_Q), secrets.randbelow(_MLKEM_Q)
        encoded += (first | second << 12).to_bytes(3, "little")
    return bytes(encoded) + os.urandom(32)


def _mlkem_share(k: int) -> bytes:
    # cryptography offers ML-KEM-768 and -1024 where its OpenSSL does, ML-KEM-512 nowhere.
    try:
        if k == 3:
            return mlkem.MLKEM768PrivateKey.generate().public_key().public_bytes_raw()
        if k == 4:
            return mlkem.MLKEM1024PrivateKey.generate().public_key().public_bytes_raw()
    except UnsupportedAlgorithm:
        pass
    return mlkem_structural_encapsulation_key(k)


def generate_key_share_private_key(group_code: int) -> KeySharePrivateKey:
    """A fresh private key for an (EC)DHE or FFDHE group; ``ValueError`` for any other group."""
    if group_code == _X25519:
        return x25519.X25519PrivateKey.generate()
    if group_code == _X448:
        return x448.X448PrivateKey.generate()
    curve = _EC_CURVES.get(group_code)
    if curve is not None:
        return ec.generate_private_key(curve())
    if group_code in _FFDHE_PRIMES_HEX:
        # OpenSSL knows the RFC 7919 groups and draws a short exponent of their security level.
        return _ffdhe_parameters(group_code).generate_private_key()
    raise ValueError(f"group 0x{group_code:04x} has no (EC)DHE private key tlsprobe can generate")


def key_share_public_bytes(group_code: int, private_key: KeySharePrivateKey) -> bytes:
    """The KeyShareEntry.key_exchange encoding of ``private_key``'s public half (RFC 8446 §4.2.8.1-2)."""
    _check_key_type(group_code, private_key)
    if isinstance(private_key, x25519.X25519PrivateKey | x448.X448PrivateKey):
        return private_key.public_key().public_bytes_raw()
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    numbers = private_key.public_key().public_numbers()
    return numbers.y.to_bytes(_prime_length(numbers.parameter_numbers.p), "big")


def _check_key_type(group_code: int, private_key: KeySharePrivateKey) -> None:
    if group_code == _X25519:
        matches = isinstance(private_key, x25519.X25519PrivateKey)
    elif group_code == _X448:
        matches = isinstance(private_key, x448.X448PrivateKey)
    elif group_code in _EC_CURVES:
        matches = isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(
            private_key.curve, _EC_CURVES[group_code]
        )
    elif group_code in _FFDHE_PRIMES_HEX:
        matches = isinstance(private_key, DHPrivateKey) and private_key.parameters().parameter_numbers().p == int(
            _FFDHE_PRIMES_HEX[group_code], 16
        )
    else:
        raise ValueError(_no_decryption_reason(group_code))
    if not matches:
        raise ValueError(f"a {type(private_key).__name__} is not a private key of group 0x{group_code:04x}")


def exchange_key_share(group_code: int, private_key: KeySharePrivateKey, server_key_exchange: bytes) -> bytes:
    """The (EC)DHE shared secret of ``private_key`` and the server's KeyShareEntry.key_exchange.

    X25519/X448: the raw 32/56-byte output, refused when all zero. NIST curves: the x-coordinate, as long as
    the field. FFDHE: left-padded to the prime's length. A share of the wrong length, a point not on the curve,
    a compressed point or a value outside 1 < y < p-1 raises ``ValueError``.
    """
    _check_key_type(group_code, private_key)
    where = f"server key share for group 0x{group_code:04x}"
    if isinstance(private_key, x25519.X25519PrivateKey | x448.X448PrivateKey):
        return _exchange_xdh(private_key, server_key_exchange, where)
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return _exchange_ecdh(private_key, server_key_exchange, where)
    return _exchange_ffdhe(private_key, server_key_exchange, where)


def _exchange_xdh(private_key: x25519.X25519PrivateKey | x448.X448PrivateKey, share: bytes, where: str) -> bytes:
    is_x25519 = isinstance(private_key, x25519.X25519PrivateKey)
    expected = 32 if is_x25519 else 56
    if len(share) != expected:
        raise ValueError(f"{where}: an {'X25519' if is_x25519 else 'X448'} key is {expected} bytes, not {len(share)}")
    try:
        if isinstance(private_key, x25519.X25519PrivateKey):
            secret = private_key.exchange(x25519.X25519PublicKey.from_public_bytes(share))
        else:
            secret = private_key.exchange(x448.X448PublicKey.from_public_bytes(share))
    except ValueError:
        secret = b""  # OpenSSL refuses an all-zero result itself
    if not any(secret):
        raise ValueError(f"{where}: a low-order point, the shared secret would be all zeros (RFC 8446 §7.4.2)")
    return secret


def _exchange_ecdh(private_key: ec.EllipticCurvePrivateKey, share: bytes, where: str) -> bytes:
    coordinate_length = (private_key.curve.key_size + 7) // 8
    expected = 1 + 2 * coordinate_length
    if len(share) != expected or share[0] != 0x04:
        raise ValueError(f"{where}: not an uncompressed {private_key.curve.name} point of {expected} bytes")
    try:
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(private_key.curve, share)
        return private_key.exchange(ec.ECDH(), public_key)
    except ValueError:
        raise ValueError(f"{where}: the point is not on {private_key.curve.name}") from None


def _exchange_ffdhe(private_key: DHPrivateKey, share: bytes, where: str) -> bytes:
    parameter_numbers = private_key.parameters().parameter_numbers()
    prime = parameter_numbers.p
    if len(share) != _prime_length(prime):
        raise ValueError(f"{where}: an FFDHE value is {_prime_length(prime)} bytes, not {len(share)}")
    y = int.from_bytes(share, "big")
    # RFC 7919 §5.1: 1 and p-1 would give a secret an attacker knows.
    if not 1 < y < prime - 1:
        raise ValueError(f"{where}: the value is not between 1 and p-1")
    try:
        secret = private_key.exchange(DHPublicNumbers(y, parameter_numbers).public_key())
    except ValueError:
        raise ValueError(f"{where}: OpenSSL refused the value") from None
    return secret.rjust(_prime_length(prime), b"\x00")


@attrs.frozen
class _ClientKey:
    public: bytes
    private: KeySharePrivateKey | None
    """None for ML-KEM and hybrids: those keys are structural only."""


# Guards the first generation of each key: two threads racing through a bare cache could each keep a different
# key, and a hello built with one would then be unreadable with the other. Reentrant: hybrids nest.
_CLIENT_KEYS_LOCK = threading.RLock()
_CLIENT_KEYS: dict[int, _ClientKey] = {}


def _client_key(group_code: int) -> _ClientKey:
    key = _CLIENT_KEYS.get(group_code)
    if key is None:
        with _CLIENT_KEYS_LOCK:
            key = _CLIENT_KEYS.get(group_code)
            if key is None:
                key = _CLIENT_KEYS[group_code] = _new_client_key(group_code)
    return key


def _new_client_key(group_code: int) -> _ClientKey:
    if supports_decryption(group_code):
        private_key = generate_key_share_private_key(group_code)
        return _ClientKey(public=key_share_public_bytes(group_code, private_key), private=private_key)
    rank = _MLKEM_RANKS.get(group_code)
    if rank is not None:
        return _ClientKey(public=_mlkem_share(rank), private=None)
    components = _HYBRIDS.get(group_code)
    if components is not None:
        return _ClientKey(public=b"".join(key_share_entry(code) for code in components), private=None)
    raise ValueError(f"no key share can be generated for group 0x{group_code:04x}")


def supports_key_share(group_code: int) -> bool:
    """Whether ``key_share_entry`` can produce a key share for the group."""
    return supports_decryption(group_code) or group_code in _MLKEM_RANKS or group_code in _HYBRIDS


def supports_decryption(group_code: int) -> bool:
    """Whether ``shared_secret`` can compute the shared secret of the group: (EC)DHE and FFDHE, not ML-KEM."""
    return group_code in (_X25519, _X448) or group_code in _EC_CURVES or group_code in _FFDHE_PRIMES_HEX


def _no_decryption_reason(group_code: int) -> str:
    if group_code in _MLKEM_RANKS or group_code in _HYBRIDS:
        return (
            f"group 0x{group_code:04x} uses ML-KEM: tlsprobe's encapsulation key is structural only and cannot "
            "decapsulate the server's ciphertext, so there is no shared secret"
        )
    return f"group 0x{group_code:04x} is not an (EC)DHE or FFDHE group tlsprobe can compute a shared secret for"


@functools.cache
def key_share_entry(group_code: int) -> bytes:
    """The key_exchange bytes of a client KeyShareEntry for a group; ``ValueError`` for an unsupported one."""
    return _client_key(group_code).public


def shared_secret(group_code: int, server_key_exchange: bytes) -> bytes:
    """The shared secret of this process's key share for the group (``key_share_entry``) and the server's.

    ``ValueError`` for a group whose secret cannot be computed (see ``supports_decryption``) and for an invalid
    server share (see ``exchange_key_share``).
    """
    if not supports_decryption(group_code):
        raise ValueError(_no_decryption_reason(group_code))
    private_key = _client_key(group_code).private
    if private_key is None:  # pragma: no cover - supports_decryption groups always have one
        raise ValueError(_no_decryption_reason(group_code))
    return exchange_key_share(group_code, private_key, server_key_exchange)


def ffdhe_prime(group_code: int) -> int | None:
    """The RFC 7919 prime of an ffdhe group code, None for another code."""
    prime_hex = _FFDHE_PRIMES_HEX.get(group_code)
    return None if prime_hex is None else int(prime_hex, 16)
