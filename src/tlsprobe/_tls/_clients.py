"""The nassl clients tlsprobe builds: every version, no certificate verification (a scanner judges certificates
itself), every suite OpenSSL has, SNI when the target has a name, and the user's client certificate, if any, for
servers that ask for one."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import BaseSslClient, OpenSslVerifyEnum, OpenSslVersionEnum, SslClient

from tlsprobe._net._identity import current_handshake_context, identity_files
from tlsprobe.wire._versions import TLSVersion

_NASSL_VERSIONS = {
    TLSVersion.SSL3: OpenSslVersionEnum.SSLV3,
    TLSVersion.TLS1_0: OpenSslVersionEnum.TLSV1,
    TLSVersion.TLS1_1: OpenSslVersionEnum.TLSV1_1,
    TLSVersion.TLS1_2: OpenSslVersionEnum.TLSV1_2,
    TLSVersion.TLS1_3: OpenSslVersionEnum.TLSV1_3,
}
ClientT = TypeVar("ClientT", LegacySslClient, SslClient)
_ALL_CIPHERS = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"
_LEGACY_ALL_CIPHERS = "ALL:COMPLEMENTOFALL"  # OpenSSL 1.0.2 has no security levels


def nassl_version(version: TLSVersion) -> OpenSslVersionEnum:
    """nassl's name for ``version`` (SSL 3.0 to TLS 1.3)."""
    return _NASSL_VERSIONS[version]


@contextmanager
def _client_auth_arguments(ignore_client_auth: bool, offer_identity: bool) -> Iterator[dict[str, Any]]:
    """nassl's client-authentication arguments. ``ignore_client_auth``: answer a certificate request, with the
    user's certificate when there is one (and ``offer_identity``), else with none; otherwise a request stops the
    handshake with ``ClientCertificateRequested``."""
    identity = current_handshake_context().identity
    if not ignore_client_auth or not offer_identity or identity is None:
        yield {"ignore_client_authentication_requests": ignore_client_auth}
        return
    with identity_files(identity) as (chain, key):  # nassl reads them while the client is built
        yield {
            "client_certificate_chain": Path(chain),
            "client_key": Path(key),
            "client_key_password": identity.key_password,
        }


def legacy_client(
    sock: socket.socket,
    version: TLSVersion,
    server_name: str | None,
    *,
    ignore_client_auth: bool,
    offer_identity: bool = True,
) -> LegacySslClient:
    """A client on nassl's OpenSSL 1.0.2: the only one that speaks SSL 3.0 or starts a renegotiation."""
    return _client(LegacySslClient, _LEGACY_ALL_CIPHERS, sock, version, server_name, ignore_client_auth, offer_identity)


def modern_client(
    sock: socket.socket,
    version: TLSVersion,
    server_name: str | None,
    *,
    ignore_client_auth: bool,
    offer_identity: bool = True,
) -> SslClient:
    """A client on nassl's OpenSSL 1.1.1 (TLS 1.0 to 1.3)."""
    return _client(SslClient, _ALL_CIPHERS, sock, version, server_name, ignore_client_auth, offer_identity)


def _client(
    client_class: type[ClientT],
    ciphers: str,
    sock: socket.socket,
    version: TLSVersion,
    server_name: str | None,
    ignore_client_auth: bool,
    offer_identity: bool,
) -> ClientT:
    with _client_auth_arguments(ignore_client_auth, offer_identity) as client_auth:
        client = client_class(
            underlying_socket=sock, ssl_version=nassl_version(version), ssl_verify=OpenSslVerifyEnum.NONE, **client_auth
        )
    client.set_cipher_list(ciphers)
    if server_name is not None:
        client.set_tlsext_host_name(server_name)
    return client


def new_client(
    sock: socket.socket,
    version: TLSVersion,
    server_name: str | None,
    *,
    ignore_client_auth: bool,
    offer_identity: bool = True,
) -> BaseSslClient:
    """The client for ``version``: the legacy one for SSL 3.0, the modern one otherwise. With ``offer_identity``
    False, a request is answered with no certificate even when the user gave one (to test what the server does
    then)."""
    build = legacy_client if version is TLSVersion.SSL3 else modern_client
    return build(sock, version, server_name, ignore_client_auth=ignore_client_auth, offer_identity=offer_identity)
