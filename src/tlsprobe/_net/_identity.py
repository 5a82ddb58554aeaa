"""Client certificates for nassl handshakes, and what a worker thread's handshakes need to know about them.

The user's files (PEM or DER, an encrypted key, or a PKCS#12 bundle) are read once, with ``cryptography``, when
a scanner is made, so that a bad file is a ``ConfigurationError`` before any server is scanned. nassl only loads
files, so each handshake that offers the certificate writes the chain and the key, the key encrypted under a
random password of this process, to a private temporary directory that is gone once the client is built.
"""

from __future__ import annotations

import contextvars
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._config import ClientCredentials

_PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | dsa.DSAPrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)
_KEY_TYPES = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    dsa.DSAPrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
)


@attrs.frozen
class ClientIdentity:
    """A client certificate chain and its key, ready to hand to nassl."""

    chain_pem: bytes = attrs.field(repr=False)
    """The leaf, then any intermediates, PEM."""
    key_pem: bytes = attrs.field(repr=False)
    """The private key, PKCS#8 PEM encrypted under ``key_password``."""
    key_password: str = attrs.field(repr=False)
    """A random password of this process, never the user's."""
    subject: str
    """The leaf's subject, for messages."""


@attrs.frozen
class HandshakeContext:
    """What the nassl handshakes of one server need to know, set for each worker-thread call."""

    identity: ClientIdentity | None = None
    """The client certificate to offer when asked; None to answer requests with no certificate."""
    client_certificate_required: bool = False
    """The connectivity phase found that the server requires a client certificate."""


_CURRENT: contextvars.ContextVar[HandshakeContext] = contextvars.ContextVar("tlsprobe_handshake")
_DEFAULT = HandshakeContext()


@contextmanager
def handshake_context(context: HandshakeContext) -> Iterator[None]:
    """Make ``context`` the current one for the handshakes made inside the block (in this thread)."""
    token = _CURRENT.set(context)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_handshake_context() -> HandshakeContext:
    """The context set by the connector for this worker-thread call (an empty one outside any)."""
    return _CURRENT.get(_DEFAULT)


@contextmanager
def identity_files(identity: ClientIdentity) -> Iterator[tuple[Path, Path]]:
    """(chain file, key file), in a directory only this user can read, removed when the block exits."""
    with tempfile.TemporaryDirectory(prefix="tlsprobe-client-") as directory:
        chain, key = Path(directory, "chain.pem"), Path(directory, "key.pem")
        chain.write_bytes(identity.chain_pem)
        key.write_bytes(identity.key_pem)
        yield chain, key


def load_client_identity(credentials: ClientCredentials) -> ClientIdentity:
    """Read and check the user's certificate and key.

    :raises ConfigurationError: a file cannot be read or parsed, the password is wrong or missing, or the key
        does not belong to the certificate.
    """
    password = credentials.password.encode() if credentials.password is not None else None
    certificate_data = _read(credentials.certificate, "certificate")
    chain: list[x509.Certificate]
    key: _PrivateKey | None = None
    if b"-----BEGIN" in certificate_data:
        chain = _pem_certificates(certificate_data, credentials.certificate)
        if b"PRIVATE KEY-----" in certificate_data and credentials.key is None:
            key = _load_key(certificate_data, password, credentials.certificate)
    else:
        chain, key = _der_or_pkcs12(certificate_data, password, credentials.certificate)
    if credentials.key is not None:
        key = _load_key(_read(credentials.key, "key"), password, credentials.key)
    if key is None:
        raise ConfigurationError(
            f"client certificate {str(credentials.certificate)!r} holds no private key: give the key file too (--key)"
        )
    if _public_der(key.public_key()) != _public_der(chain[0].public_key()):
        raise ConfigurationError(
            f"the client key does not belong to the certificate {str(credentials.certificate)!r} "
            f"({chain[0].subject.rfc4514_string()})"
        )
    key_password = secrets.token_urlsafe(24)
    return ClientIdentity(
        chain_pem=b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in chain),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(key_password.encode()),
        ),
        key_password=key_password,
        subject=chain[0].subject.rfc4514_string(),
    )


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigurationError(f"cannot read the client {what} file {str(path)!r}: {error.strerror}") from None


def _pem_certificates(data: bytes, path: Path) -> list[x509.Certificate]:
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise ConfigurationError(f"client certificate {str(path)!r} is not valid PEM: {error}") from None
    return chain


def _der_or_pkcs12(
    data: bytes, password: bytes | None, path: Path
) -> tuple[list[x509.Certificate], _PrivateKey | None]:
    try:
        return [x509.load_der_x509_certificate(data)], None
    except ValueError:
        pass
    try:
        bundle = pkcs12.load_pkcs12(data, password)
    except ValueError as error:
        raise ConfigurationError(
            f"client certificate {str(path)!r} is neither PEM, DER nor a PKCS#12 bundle it could open "
            f"(wrong or missing password?): {error}"
        ) from None
    if bundle.cert is None:
        raise ConfigurationError(f"the PKCS#12 bundle {str(path)!r} holds no certificate")
    key = bundle.key
    if key is not None and not isinstance(key, _KEY_TYPES):
        raise ConfigurationError(f"the PKCS#12 bundle {str(path)!r} holds a key of an unsupported type")
    return [bundle.cert.certificate, *(extra.certificate for extra in bundle.additional_certs)], key


def _load_key(data: bytes, password: bytes | None, path: Path) -> _PrivateKey:
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password)
        else:
            key = serialization.load_der_private_key(data, password)
    except TypeError as error:  # a password for a plain key, or none for an encrypted one
        raise ConfigurationError(f"client key {str(path)!r}: {error} (--key-password)") from None
    except ValueError as error:
        raise ConfigurationError(f"client key {str(path)!r} could not be read (wrong password?): {error}") from None
    if not isinstance(key, _KEY_TYPES):
        raise ConfigurationError(f"client key {str(path)!r} is of an unsupported type")
    return key


def _public_der(key: object) -> bytes:
    assert hasattr(key, "public_bytes")
    der: bytes = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return der
