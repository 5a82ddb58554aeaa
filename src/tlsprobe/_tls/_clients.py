"""The nassl clients tlsprobe builds: every version, no certificate verification (a scanner judges certificates
itself), every suite OpenSSL has, and SNI when the target has a name."""

from __future__ import annotations

import socket

from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import BaseSslClient, OpenSslVerifyEnum, OpenSslVersionEnum, SslClient

from tlsprobe.wire._versions import TLSVersion

_NASSL_VERSIONS = {
    TLSVersion.SSL3: OpenSslVersionEnum.SSLV3,
    TLSVersion.TLS1_0: OpenSslVersionEnum.TLSV1,
    TLSVersion.TLS1_1: OpenSslVersionEnum.TLSV1_1,
    TLSVersion.TLS1_2: OpenSslVersionEnum.TLSV1_2,
    TLSVersion.TLS1_3: OpenSslVersionEnum.TLSV1_3,
}
_ALL_CIPHERS = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"
_LEGACY_ALL_CIPHERS = "ALL:COMPLEMENTOFALL"  # OpenSSL 1.0.2 has no security levels


def nassl_version(version: TLSVersion) -> OpenSslVersionEnum:
    """nassl's name for ``version`` (SSL 3.0 to TLS 1.3)."""
    return _NASSL_VERSIONS[version]


def legacy_client(
    sock: socket.socket, version: TLSVersion, server_name: str | None, *, ignore_client_auth: bool
) -> LegacySslClient:
    """A client on nassl's OpenSSL 1.0.2: the only one that speaks SSL 3.0 or starts a renegotiation."""
    client = LegacySslClient(
        underlying_socket=sock,
        ssl_version=nassl_version(version),
        ssl_verify=OpenSslVerifyEnum.NONE,
        ignore_client_authentication_requests=ignore_client_auth,
    )
    client.set_cipher_list(_LEGACY_ALL_CIPHERS)
    if server_name is not None:
        client.set_tlsext_host_name(server_name)
    return client


def modern_client(
    sock: socket.socket, version: TLSVersion, server_name: str | None, *, ignore_client_auth: bool
) -> SslClient:
    """A client on nassl's OpenSSL 1.1.1 (TLS 1.0 to 1.3)."""
    client = SslClient(
        underlying_socket=sock,
        ssl_version=nassl_version(version),
        ssl_verify=OpenSslVerifyEnum.NONE,
        ignore_client_authentication_requests=ignore_client_auth,
    )
    client.set_cipher_list(_ALL_CIPHERS)
    if server_name is not None:
        client.set_tlsext_host_name(server_name)
    return client


def new_client(
    sock: socket.socket, version: TLSVersion, server_name: str | None, *, ignore_client_auth: bool
) -> BaseSslClient:
    """The client for ``version``: the legacy one for SSL 3.0, the modern one otherwise."""
    build = legacy_client if version is TLSVersion.SSL3 else modern_client
    return build(sock, version, server_name, ignore_client_auth=ignore_client_auth)
